/** Exact reference: elementwise activations and softmax / log-softmax. */
import { ExactSum } from '../exact.js';
import type { Arr } from '../tensor.js';
import { fromData } from '../tensor.js';
import { flat, resolveDim, splitAt } from './common.js';

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
