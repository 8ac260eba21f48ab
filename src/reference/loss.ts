/** Exact reference: losses. */
import { ExactSum } from '../exact.js';
import { invalidInputs } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData, shapeString } from '../tensor.js';
import { checkDy, flat } from './common.js';
import { softmaxRef } from './activation.js';

export type Reduction = 'none' | 'mean' | 'sum';

function reduce(values: Float64Array, reduction: Reduction, divisor: number, shape: number[]): Arr {
  if (reduction === 'none') return fromData(values, shape);
  const acc = new ExactSum();
  for (let i = 0; i < values.length; i++) acc.add(values[i]);
  const s = acc.value();
  return fromData([reduction === 'sum' ? s : s / divisor], []);
}

/**
 * Cross-entropy of logits [N, C] against class indices [N] (int64) or class probabilities [N, C]:
 *
 *   log p = logSoftmax(logits, dim 1)
 *   indices:       ℓ_n = −(1 − ε)·log p[n, t_n] − (ε/C)·Σ_c log p[n, c]    (0 where t_n = ignoreIndex)
 *   probabilities: ℓ_n = −Σ_c ((1 − ε)·t[n,c] + ε/C)·log p[n, c]
 *
 * reduction "mean" divides Σ ℓ_n by the number of non-ignored samples (indices) or by N
 * (probabilities), "sum" adds, "none" returns ℓ [N]. ε is labelSmoothing. As PyTorch.
 */
export function crossEntropyRef(logits: Arr, target: Arr, reduction: Reduction, labelSmoothing: number, ignoreIndex: number): Arr {
  const [N, C] = logits.shape;
  const logp = flat(softmaxRef(logits, 1, true));
  const td = flat(target);
  const losses = new Float64Array(N);
  const eps = labelSmoothing;
  const acc = new ExactSum();
  checkCrossEntropyTarget(logits, target, ignoreIndex);
  if (target.shape.length === 1) {
    let counted = 0;
    for (let n = 0; n < N; n++) {
      const t = td[n];
      if (t === ignoreIndex) continue;
      counted++;
      acc.reset();
      acc.add(-(1 - eps) * logp[n * C + t]);
      if (eps !== 0) for (let c = 0; c < C; c++) acc.add((-eps / C) * logp[n * C + c]);
      losses[n] = acc.value();
    }
    return reduce(losses, reduction, counted, [N]);
  }
  for (let n = 0; n < N; n++) {
    acc.reset();
    for (let c = 0; c < C; c++) acc.addProduct(-((1 - eps) * td[n * C + c] + eps / C), logp[n * C + c]);
    losses[n] = acc.value();
  }
  return reduce(losses, reduction, N, [N]);
}

/** crossEntropy's target: class indices [N] (integers in 0..C−1 or ignoreIndex) or probabilities [N, C]. */
export function checkCrossEntropyTarget(logits: Arr, target: Arr, ignoreIndex: number): void {
  const [N, C] = logits.shape;
  if (target.shape.length === 1) {
    if (target.shape[0] !== N) throw invalidInputs('/inputs/target/shape', `class-index target must have shape [${N}], got ${shapeString(target.shape)}`);
    const td = flat(target);
    for (let n = 0; n < N; n++) {
      const t = td[n];
      if (!Number.isInteger(t)) throw invalidInputs(`/inputs/target/data/${n}`, `class indices must be integers (dtype int64), got ${t}`);
      if (t !== ignoreIndex && (t < 0 || t >= C)) throw invalidInputs(`/inputs/target/data/${n}`, `target[${n}] = ${t} is not a class index in 0..${C - 1}`);
    }
    return;
  }
  if (target.shape.length !== 2 || target.shape[0] !== N || target.shape[1] !== C) {
    throw invalidInputs('/inputs/target/shape', `target must be class indices [${N}] or probabilities [${N}, ${C}], got ${shapeString(target.shape)}`);
  }
}

/** Mean squared error: ℓ = (input − target)², reduced by mean (÷ numel), sum, or none. */
export function mseLossRef(input: Arr, target: Arr, reduction: Reduction): Arr {
  if (input.shape.length !== target.shape.length || input.shape.some((d, i) => d !== target.shape[i])) {
    throw invalidInputs('/inputs/target/shape', `target must have the shape of input ${shapeString(input.shape)}, got ${shapeString(target.shape)} (no broadcasting)`);
  }
  const a = flat(input);
  const b = flat(target);
  const sq = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) sq[i] = (a[i] - b[i]) * (a[i] - b[i]);
  if (reduction === 'none') return fromData(sq, input.shape);
  // Exact: (a−b)² = d² where d = a − b is exact for float32 inputs; Σ d² accumulated exactly.
  const acc = new ExactSum();
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    acc.addProduct(d, d);
  }
  const s = acc.value();
  return fromData([reduction === 'sum' ? s : s / a.length], []);
}

// ---- backward passes (the gradients of the ops above; see ops/backward.ts for how they are registered) ----

/**
 * crossEntropy backward w.r.t. the logits. With p = softmax(logits) and the smoothed target
 * t' = (1 − ε)·onehot(t) + ε/C (or (1 − ε)·t + ε/C for probabilities):
 *
 *   dlogits[n] = s_n·(p[n]·Σ_c t'[n,c] − t'[n])
 *
 * where s_n = dy (sum), dy / (non-ignored count or N) (mean), dy[n] (none); ignored rows get 0.
 */
export function crossEntropyBackwardRef(logits: Arr, target: Arr, dy: Arr, reduction: Reduction, eps: number, ignoreIndex: number): Arr {
  const [N, C] = logits.shape;
  const p = flat(softmaxRef(logits, 1, false));
  const td = flat(target);
  const g = checkDy(dy, reduction === 'none' ? [N] : []);
  const byIndex = target.shape.length === 1;
  const counted = byIndex ? Array.from(td).filter((t) => t !== ignoreIndex).length : N;
  const out = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    if (byIndex && td[n] === ignoreIndex) continue;
    if (byIndex && (!Number.isInteger(td[n]) || td[n] < 0 || td[n] >= C)) throw invalidInputs(`/inputs/target/data/${n}`, `target[${n}] = ${td[n]} is not a class index in 0..${C - 1}`);
    const s = reduction === 'none' ? g[n] : reduction === 'sum' ? g[0] : g[0] / counted;
    const tp = new Float64Array(C);
    for (let c = 0; c < C; c++) tp[c] = (byIndex ? (c === td[n] ? 1 - eps : 0) : (1 - eps) * td[n * C + c]) + eps / C;
    const acc = new ExactSum();
    for (const v of tp) acc.add(v);
    const total = acc.value();
    for (let c = 0; c < C; c++) out[n * C + c] = s * (p[n * C + c] * total - tp[c]);
  }
  return fromData(out, logits.shape);
}
