/** Exact reference: elementwise activations and softmax / log-softmax. */
import { ExactSum } from '../exact.js';
import * as R from '../rational.js';
import type { Arr } from '../tensor.js';
import { fromData } from '../tensor.js';
import { checkDy, flat, resolveDim, splitAt } from './common.js';

function map(x: Arr, f: (v: number) => number): Arr {
  const xd = flat(x);
  const out = new Float64Array(xd.length);
  for (let i = 0; i < xd.length; i++) out[i] = f(xd[i]);
  return fromData(out, x.shape);
}

/** relu(x) = max(0, x); NaN stays NaN (PyTorch), relu(−0) = 0. */
export const reluRef = (x: Arr): Arr => map(x, (v) => (v > 0 ? v : Number.isNaN(v) ? NaN : 0));

/** leakyRelu(x) = x if x ≥ 0, else negativeSlope·x. */
export const leakyReluRef = (x: Arr, slope: number): Arr => map(x, (v) => (v >= 0 ? v : v * slope));

/**
 * hardswish(x) = x·min(max(x + 3, 0), 6)/6 (Howard et al., MobileNetV3; PyTorch): 0 for x ≤ −3,
 * x for x ≥ 3, and between them x(x + 3)/6, evaluated exactly (rationals) and rounded once.
 * −∞ gives NaN and x ≤ −3 gives −0, as PyTorch's formula does (−∞·0, x·0 with x < 0).
 */
export const hardswishRef = (x: Arr): Arr =>
  map(x, (v) => {
    if (Number.isNaN(v) || v === -Infinity) return NaN;
    if (v <= -3) return -0;
    if (v >= 3) return v;
    const q = R.q(v);
    return R.toDouble(R.div(R.mul(q, R.add(q, R.int(3))), R.int(6)));
  });

/** sigmoid(x) = 1 / (1 + e^−x), evaluated as e^x / (1 + e^x) for x < 0 so neither side overflows. */
export const sigmoidRef = (x: Arr): Arr =>
  map(x, (v) => {
    if (v >= 0) return 1 / (1 + Math.exp(-v));
    const e = Math.exp(v);
    return e / (1 + e);
  });

export const tanhRef = (x: Arr): Arr => map(x, Math.tanh);

/**
 * Softmax along `dim`, shifted by the maximum so no exponential overflows:
 *
 *   y_i = e^(x_i − m) / Σ_j e^(x_j − m),  m = max_j x_j
 *
 * (log form: y_i = x_i − m − log Σ_j e^(x_j − m)). The sum is exact before its one rounding.
 */
export function softmaxRef(x: Arr, dim: number, log: boolean): Arr {
  const d = resolveDim(dim, x.shape.length, '/params/dim');
  const [outer, size, inner] = splitAt(x.shape, d);
  const xd = flat(x);
  const out = new Float64Array(xd.length);
  const acc = new ExactSum();
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      let m = -Infinity;
      let nan = false;
      for (let k = 0; k < size; k++) {
        const v = xd[base + k * inner];
        if (Number.isNaN(v)) nan = true;
        else if (v > m) m = v;
      }
      acc.reset();
      for (let k = 0; k < size; k++) acc.add(Math.exp(xd[base + k * inner] - m));
      const s = acc.value();
      const logS = Math.log(s);
      for (let k = 0; k < size; k++) {
        const v = xd[base + k * inner];
        out[base + k * inner] = nan ? NaN : log ? v - m - logS : Math.exp(v - m) / s;
      }
    }
  }
  return fromData(out, x.shape);
}

// ---- backward passes (the gradients of the ops above; see ops/backward.ts for how they are registered) ----

/** relu backward: dx = dy where x > 0, else 0 (PyTorch: the gradient at 0 is 0). */
export function reluBackwardRef(x: Arr, dy: Arr): Arr {
  const g = checkDy(dy, x.shape);
  return fromData(flat(x).map((v, i) => (v > 0 ? g[i] : 0)), x.shape);
}

/** leakyRelu backward: dx = dy where x > 0, else negativeSlope·dy (PyTorch: slope at 0). */
export function leakyReluBackwardRef(x: Arr, dy: Arr, slope: number): Arr {
  const g = checkDy(dy, x.shape);
  return fromData(flat(x).map((v, i) => (v > 0 ? g[i] : g[i] * slope)), x.shape);
}

/**
 * hardswish backward, as PyTorch's vectorised CPU kernel (the path of any tensor of a few values
 * or more): dx = 0 for x < −3, dy·(x/3 + 1/2) = dy·(2x + 3)/6 for −3 ≤ x < 3 (exact, rounded
 * once), dy for x ≥ 3; NaN x gives NaN. (PyTorch's scalar tail, torch 1.13, gives 1.5·dy at
 * exactly x = 3: the two paths disagree at that kink.)
 */
export function hardswishBackwardRef(x: Arr, dy: Arr): Arr {
  const g = checkDy(dy, x.shape);
  return fromData(
    flat(x).map((v, i) => {
      if (Number.isNaN(v)) return NaN;
      if (v < -3) return 0;
      if (v >= 3) return g[i];
      if (!Number.isFinite(g[i])) return g[i] * ((2 * v + 3) / 6);
      return R.toDouble(R.div(R.mul(R.q(g[i]), R.add(R.mul(R.int(2), R.q(v)), R.int(3))), R.int(6)));
    }),
    x.shape,
  );
}

/** sigmoid backward: dx = dy·s·(1 − s), s = sigmoid(x). tanh backward: dx = dy·(1 − t²). */
export function sigmoidBackwardRef(x: Arr, y: Arr, dy: Arr): Arr {
  const g = checkDy(dy, x.shape);
  return fromData(flat(y).map((s, i) => g[i] * s * (1 - s)), x.shape);
}

export function tanhBackwardRef(x: Arr, y: Arr, dy: Arr): Arr {
  const g = checkDy(dy, x.shape);
  return fromData(flat(y).map((t, i) => g[i] * (1 - t * t)), x.shape);
}

/** softmax backward along dim: dx_i = y_i·(dy_i − Σ_j dy_j·y_j). */
export function softmaxBackwardRef(x: Arr, dy: Arr, dim: number): Arr {
  const g = checkDy(dy, x.shape);
  const d = resolveDim(dim, x.shape.length, '/params/dim');
  const y = flat(softmaxRef(x, d, false));
  const [outer, size, inner] = splitAt(x.shape, d);
  const dx = new Float64Array(y.length);
  const acc = new ExactSum();
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      acc.reset();
      for (let k = 0; k < size; k++) acc.addProduct(g[base + k * inner], y[base + k * inner]);
      const dot = acc.value();
      for (let k = 0; k < size; k++) dx[base + k * inner] = y[base + k * inner] * (g[base + k * inner] - dot);
    }
  return fromData(dx, x.shape);
}
