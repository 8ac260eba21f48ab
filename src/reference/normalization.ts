/**
 * Exact reference: batch, layer, instance, group and local-response normalisation.
 * Means are exact sums divided once; variances are the biased (population) variance
 * Σ(x − μ)²/n with the squares accumulated exactly.
 */
import { ExactSum } from '../exact.js';
import { invalidInputs } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData, numel, shapeString } from '../tensor.js';
import { flat, ScatterSum } from './common.js';

/** Mean and biased variance of the values at offsets produced by `each`. */
export function moments(n: number, each: (visit: (v: number) => void) => void): { mean: number; variance: number } {
  const acc = new ExactSum();
  each((v) => acc.add(v));
  const mean = acc.value() / n;
  acc.reset();
  each((v) => acc.addProduct(v - mean, v - mean));
  return { mean, variance: acc.value() / n };
}

export function checkVector(a: Arr | undefined, C: number, name: string): Float64Array | undefined {
  if (!a) return undefined;
  if (a.shape.length !== 1 || a.shape[0] !== C) throw invalidInputs(`/inputs/${name}/shape`, `${name} must have shape [${C}] (one per channel), got ${shapeString(a.shape)}`);
  return flat(a);
}

/** batchNorm in training: the batch statistics need more than one value per channel. */
export function checkTrainingCount(x: Arr): void {
  if (numel(x.shape) / x.shape[1] <= 1) throw invalidInputs('/inputs/x/shape', `expected more than 1 value per channel when training, got input shape ${shapeString(x.shape)}`);
}

export interface BatchNormOptions {
  training: boolean;
  momentum: number;
  eps: number;
  runningVarEstimator: 'unbiased' | 'biased';
}

export interface BatchNormResult {
  y: Arr;
  batchMean?: Arr;
  batchVar?: Arr;
  runningMean?: Arr;
  runningVar?: Arr;
}

/**
 * Batch normalisation over x [N, C, …] per channel c (statistics over N and every spatial dim):
 *
 *   y = (x − μ_c) / √(σ²_c + ε) · γ_c + β_c
 *
 * Inference: μ, σ² are runningMean, runningVar. Training: μ, σ² are the batch mean and the biased
 * batch variance; the running statistics, when given, become
 *   runningMean ← (1 − m)·runningMean + m·μ,
 *   runningVar  ← (1 − m)·runningVar + m·σ̂²,  σ̂² = σ²·n/(n − 1) (unbiased, PyTorch) or σ² (biased, ONNX/Keras).
 */
export function batchNormRef(x: Arr, weight: Arr | undefined, bias: Arr | undefined, runningMean: Arr | undefined, runningVar: Arr | undefined, o: BatchNormOptions): BatchNormResult {
  const [N, C] = x.shape;
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const xd = flat(x);
  const gamma = checkVector(weight, C, 'weight');
  const beta = checkVector(bias, C, 'bias');
  const rm = checkVector(runningMean, C, 'runningMean');
  const rv = checkVector(runningVar, C, 'runningVar');
  const count = N * inner;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  if (o.training) {
    checkTrainingCount(x);
    for (let c = 0; c < C; c++) {
      const m = moments(count, (visit) => {
        for (let n = 0; n < N; n++) for (let k = 0; k < inner; k++) visit(xd[(n * C + c) * inner + k]);
      });
      mean[c] = m.mean;
      variance[c] = m.variance;
    }
  } else {
    if (!rm) throw invalidInputs('/inputs/runningMean', 'batchNorm in inference (training false) needs runningMean and runningVar');
    if (!rv) throw invalidInputs('/inputs/runningVar', 'batchNorm in inference (training false) needs runningMean and runningVar');
    mean.set(rm);
    variance.set(rv);
  }
  const y = new Float64Array(xd.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const inv = 1 / Math.sqrt(variance[c] + o.eps);
      for (let k = 0; k < inner; k++) {
        const t = (n * C + c) * inner + k;
        y[t] = (xd[t] - mean[c]) * inv * (gamma ? gamma[c] : 1) + (beta ? beta[c] : 0);
      }
    }
  const res: BatchNormResult = { y: fromData(y, x.shape) };
  if (o.training) {
    res.batchMean = fromData(mean, [C]);
    res.batchVar = fromData(variance, [C]);
    if (rm && rv) {
      const m = o.momentum;
      const corr = o.runningVarEstimator === 'unbiased' ? count / (count - 1) : 1;
      res.runningMean = fromData(rm.map((v, c) => (1 - m) * v + m * mean[c]), [C]);
      res.runningVar = fromData(rv.map((v, c) => (1 - m) * v + m * variance[c] * corr), [C]);
    }
  }
  return res;
}

/**
 * Normalises x viewed as [outer, groupsPerOuter, size] over its last axis (one group = `size`
 * consecutive values), then applies a per-element affine map chosen by `affineIndex`:
 *   y = (x − μ)/√(σ² + ε) · γ[a] + β[a]
 */
function normalizeGroups(xd: Float64Array, groups: number, size: number, eps: number, gamma: Float64Array | undefined, beta: Float64Array | undefined, affineIndex: (t: number) => number): Float64Array {
  const y = new Float64Array(xd.length);
  for (let g = 0; g < groups; g++) {
    const off = g * size;
    const { mean, variance } = moments(size, (visit) => {
      for (let k = 0; k < size; k++) visit(xd[off + k]);
    });
    const inv = 1 / Math.sqrt(variance + eps);
    for (let k = 0; k < size; k++) {
      const a = affineIndex(off + k);
      y[off + k] = (xd[off + k] - mean) * inv * (gamma ? gamma[a] : 1) + (beta ? beta[a] : 0);
    }
  }
  return y;
}

/** Layer normalisation over the trailing dims `normalizedShape`; weight and bias have that shape. */
export function layerNormRef(x: Arr, weight: Arr | undefined, bias: Arr | undefined, normalizedShape: number[], eps: number): Arr {
  checkLayerNorm(x, weight, bias, normalizedShape);
  const size = normalizedShape.reduce((a, b) => a * b, 1);
  const xd = flat(x);
  const y = normalizeGroups(xd, size === 0 ? 0 : xd.length / size, size, eps, weight && flat(weight), bias && flat(bias), (t) => t % size);
  return fromData(y, x.shape);
}

/** layerNorm's shapes: normalizedShape the trailing dims of x, weight and bias of that shape. */
export function checkLayerNorm(x: Arr, weight: Arr | undefined, bias: Arr | undefined, normalizedShape: number[]): void {
  const r = normalizedShape.length;
  const tail = x.shape.slice(x.shape.length - r);
  if (r > x.shape.length || tail.some((d, i) => d !== normalizedShape[i])) {
    throw invalidInputs('/params/normalizedShape', `normalizedShape [${normalizedShape.join(', ')}] must equal the trailing dims of x ${shapeString(x.shape)}`);
  }
  for (const [a, name] of [[weight, 'weight'], [bias, 'bias']] as const) {
    if (a && (a.shape.length !== r || a.shape.some((d, i) => d !== normalizedShape[i]))) {
      throw invalidInputs(`/inputs/${name}/shape`, `${name} must have shape [${normalizedShape.join(', ')}], got ${shapeString(a.shape)}`);
    }
  }
}

/** groupNorm's shapes: numGroups divides C, weight and bias [C]. */
export function checkGroupNorm(x: Arr, weight: Arr | undefined, bias: Arr | undefined, numGroups: number): void {
  const C = x.shape[1];
  if (C % numGroups !== 0) throw invalidInputs('/params/numGroups', `numGroups = ${numGroups} must divide the ${C} channels`);
  checkVector(weight, C, 'weight');
  checkVector(bias, C, 'bias');
}

/** Group normalisation: x [N, C, …], statistics per (n, group of C/G channels), affine per channel. */
export function groupNormRef(x: Arr, weight: Arr | undefined, bias: Arr | undefined, numGroups: number, eps: number): Arr {
  const [N, C] = x.shape;
  checkGroupNorm(x, weight, bias, numGroups);
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const gamma = weight && flat(weight);
  const beta = bias && flat(bias);
  const size = (C / numGroups) * inner;
  const y = normalizeGroups(flat(x), N * numGroups, size, eps, gamma, beta, (t) => Math.floor(t / inner) % C);
  return fromData(y, x.shape);
}

/** Instance normalisation: statistics per (n, c) over the spatial dims; optional affine per channel. */
export function instanceNormRef(x: Arr, weight: Arr | undefined, bias: Arr | undefined, eps: number): Arr {
  if (x.shape.length < 3) throw invalidInputs('/inputs/x/shape', `instanceNorm needs x [N, C, …spatial], got ${shapeString(x.shape)}`);
  return groupNormRef(x, weight, bias, x.shape[1], eps);
}

/**
 * Local response normalisation across channels (PyTorch; α divided by the size):
 *
 *   y_c = x_c / (k + α/n · Σ_{c' = c−⌊n/2⌋}^{c+⌊(n−1)/2⌋} x_{c'}²)^β
 *
 * with channels outside [0, C) contributing 0.
 */
export function localResponseNormRef(x: Arr, size: number, alpha: number, beta: number, k: number): Arr {
  const [N, C] = x.shape;
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const xd = flat(x);
  const y = new Float64Array(xd.length);
  const acc = new ExactSum();
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < inner; s++) {
        acc.reset();
        // the window clipped to the channels (outside them x is 0): at most C steps whatever the size
        const hi = Math.min(C - 1, c + Math.floor((size - 1) / 2));
        for (let cc = Math.max(0, c - Math.floor(size / 2)); cc <= hi; cc++) {
          const v = xd[(n * C + cc) * inner + s];
          acc.addProduct(v, v);
        }
        const t = (n * C + c) * inner + s;
        y[t] = xd[t] / Math.pow(k + (alpha / size) * acc.value(), beta);
      }
  return fromData(y, x.shape);
}

// ---- backward passes (the gradients of the ops above; see ops/backward.ts for how they are registered) ----

/**
 * Backward of y = x̂·γ + β with x̂ = (x − μ)/σ, σ = √(σ² + ε), over each group of n values whose
 * statistics were computed from the group itself (training-mode BN, layer, group, instance norm):
 *
 *   ĝ_i = dy_i·γ_i,   dx_i = (ĝ_i − mean(ĝ) − x̂_i·mean(ĝ·x̂)) / σ
 *   dγ_a = Σ dy·x̂,  dβ_a = Σ dy   over the elements sharing affine index a
 *
 * `member(g, k)` is the flat index of the k-th element of group g; `affine(t)` the affine index of t.
 */
export function normBackward(
  xd: Float64Array,
  g: Float64Array,
  groups: number,
  n: number,
  member: (grp: number, k: number) => number,
  eps: number,
  gamma: Float64Array | undefined,
  affine: (t: number) => number,
  affineSize: number,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const dx = new Float64Array(xd.length);
  const dgamma = new ScatterSum(affineSize);
  const dbeta = new ScatterSum(affineSize);
  const acc = new ExactSum();
  const xhat = new Float64Array(n);
  const gh = new Float64Array(n);
  for (let grp = 0; grp < groups; grp++) {
    acc.reset();
    for (let k = 0; k < n; k++) acc.add(xd[member(grp, k)]);
    const mean = acc.value() / n;
    acc.reset();
    for (let k = 0; k < n; k++) {
      const d = xd[member(grp, k)] - mean;
      acc.addProduct(d, d);
    }
    const sigma = Math.sqrt(acc.value() / n + eps);
    for (let k = 0; k < n; k++) {
      const t = member(grp, k);
      xhat[k] = (xd[t] - mean) / sigma;
      gh[k] = g[t] * (gamma ? gamma[affine(t)] : 1);
      dgamma.addProduct(affine(t), g[t], xhat[k]);
      dbeta.add(affine(t), g[t]);
    }
    acc.reset();
    for (let k = 0; k < n; k++) acc.add(gh[k]);
    const meanG = acc.value() / n;
    acc.reset();
    for (let k = 0; k < n; k++) acc.addProduct(gh[k], xhat[k]);
    const meanGX = acc.value() / n;
    for (let k = 0; k < n; k++) dx[member(grp, k)] = (gh[k] - meanG - xhat[k] * meanGX) / sigma;
  }
  return { dx, dgamma: dgamma.values(), dbeta: dbeta.values() };
}
