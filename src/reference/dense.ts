/** Exact reference: dense layer, flatten, dropout. */
import { ExactSum } from '../exact.js';
import { invalidInputs, invalidParams } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData, numel, shapeString } from '../tensor.js';
import { checkDy, flat, resolveDim } from './common.js';

/** Checks weight [out, in] and bias [out] against x [*, in]. */
export function linearShape(x: Arr, w: Arr, b: Arr | undefined): void {
  const inF = x.shape[x.shape.length - 1];
  const [outF, wIn] = w.shape;
  if (wIn !== inF) {
    throw invalidInputs('/inputs/weight/shape/1', `weight has ${wIn} input features but x has ${inF} (its last dimension)`);
  }
  if (b && (b.shape.length !== 1 || b.shape[0] !== outF)) {
    throw invalidInputs('/inputs/bias/shape', `bias must have shape [${outF}], got ${shapeString(b.shape)}`);
  }
}

/**
 * Dense layer, x [*, in], weight [out, in], bias [out]:
 *
 *   y[…, o] = b[o] + Σ_i x[…, i] · w[o, i]
 */
export function linearRef(x: Arr, w: Arr, b: Arr | undefined): Arr {
  const inF = x.shape[x.shape.length - 1];
  const [outF] = w.shape;
  linearShape(x, w, b);
  const rows = numel(x.shape) / Math.max(inF, 1);
  const xd = flat(x);
  const wd = flat(w);
  const bd = b ? flat(b) : undefined;
  const out = new Float64Array(rows * outF);
  const acc = new ExactSum();
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      acc.reset();
      if (bd) acc.add(bd[o]);
      for (let i = 0; i < inF; i++) acc.addProduct(xd[r * inF + i], wd[o * inF + i]);
      out[r * outF + o] = acc.value();
    }
  }
  return fromData(out, [...x.shape.slice(0, -1), outF]);
}

/** Flattens dims startDim..endDim (inclusive, negatives from the end) into one: a reshape, no copy of values. */
export function flattenRef(x: Arr, startDim: number, endDim: number): Arr {
  const r = x.shape.length;
  if (r === 0) return fromData(flat(x).slice(), [1]);
  const s = resolveDim(startDim, r, '/params/startDim');
  const e = resolveDim(endDim, r, '/params/endDim');
  if (s > e) throw invalidParams('/params/endDim', `startDim (${startDim} → ${s}) must not come after endDim (${endDim} → ${e})`);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return fromData(flat(x).slice(), shape);
}

/**
 * Inverted dropout. Inference (training false): y = x. Training: y = x · mask / (1 − p), with the
 * 0/1 mask given as an input (the reference draws no random numbers); p = 1 gives zeros, as PyTorch.
 */
export function dropoutRef(x: Arr, mask: Arr | undefined, p: number, training: boolean): Arr {
  const xd = flat(x);
  if (!training || p === 0) return fromData(xd.slice(), x.shape);
  if (!mask) throw invalidInputs('/inputs/mask', 'dropout in training mode needs the 0/1 mask input (the reference draws no random numbers)');
  if (mask.shape.length !== x.shape.length || mask.shape.some((d, i) => d !== x.shape[i])) {
    throw invalidInputs('/inputs/mask/shape', `mask must have the shape of x ${shapeString(x.shape)}, got ${shapeString(mask.shape)}`);
  }
  const md = flat(mask);
  const out = new Float64Array(xd.length);
  for (let i = 0; i < xd.length; i++) {
    if (md[i] !== 0 && md[i] !== 1) throw invalidInputs(`/inputs/mask/data/${i}`, `mask values must be 0 or 1, got ${md[i]}`);
    out[i] = p === 1 ? 0 * xd[i] : (xd[i] * md[i]) / (1 - p);
  }
  return fromData(out, x.shape);
}

/** Exact sum of all elements, for losses and checks. */
export function exactTotal(values: Float64Array): number {
  const acc = new ExactSum();
  for (let i = 0; i < values.length; i++) acc.add(values[i]);
  return acc.value();
}

// ---- backward passes (the gradients of the ops above; see ops/backward.ts for how they are registered) ----

/** linear backward: dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy (x viewed as [rows, in]). */
export function linearBackwardRef(x: Arr, w: Arr, dy: Arr): { dx: Arr; dweight: Arr; dbias: Arr } {
  const inF = x.shape[x.shape.length - 1];
  const [outF] = w.shape;
  const rows = x.shape.length ? flat(x).length / Math.max(inF, 1) : 0;
  const g = checkDy(dy, [...x.shape.slice(0, -1), outF]);
  const xd = flat(x);
  const wd = flat(w);
  const dx = new Float64Array(xd.length);
  const dw = new Float64Array(wd.length);
  const db = new Float64Array(outF);
  const acc = new ExactSum();
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < inF; i++) {
      acc.reset();
      for (let o = 0; o < outF; o++) acc.addProduct(g[r * outF + o], wd[o * inF + i]);
      dx[r * inF + i] = acc.value();
    }
  for (let o = 0; o < outF; o++) {
    for (let i = 0; i < inF; i++) {
      acc.reset();
      for (let r = 0; r < rows; r++) acc.addProduct(g[r * outF + o], xd[r * inF + i]);
      dw[o * inF + i] = acc.value();
    }
    acc.reset();
    for (let r = 0; r < rows; r++) acc.add(g[r * outF + o]);
    db[o] = acc.value();
  }
  return { dx: fromData(dx, x.shape), dweight: fromData(dw, w.shape), dbias: fromData(db, [outF]) };
}
