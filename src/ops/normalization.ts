/** Registry entries: batchNorm, layerNorm, instanceNorm, groupNorm, localResponseNorm. */
import { type Admissible, type AdmissibleBlock, type Inputs, defineOp, type Outputs, type Params, register } from '../registry.js';
import { rounder, undefinedReason } from '../judge/admissible.js';
import { type BatchNormOptions, batchNormRef, checkGroupNorm, checkLayerNorm, checkTrainingCount, checkVector, groupNormRef, instanceNormRef, layerNormRef, localResponseNormRef, normBackward } from '../reference/normalization.js';
import { input, optional, randTensor } from './helpers.js';
import { relativeBound } from '../judge/bounds.js';
import { bool, ints, num, oneOf } from '../params.js';
import { checkDy, flat } from '../reference/common.js';
import { type Arr, fromData, numel } from '../tensor.js';
import type { Rng } from '../rng.js';
import { invalidInputs } from '../errors.js';
import { backwardOf, normCancellation, normOut } from './backward.js';

const eps = { name: 'eps', schema: { type: 'number', minimum: 0 }, default: 1e-5, doc: 'added to the variance' };

/**
 * The error of y = (x − μ)/√(σ² + ε)·γ + β at precision u: x − μ loses u·(|x| + |μ|), which the
 * scale 1/σ amplifies; the statistics over n values add about n·u. Bounded per element by
 *   (n + 10)·u·(|y| + max|γ|·(|x| + max|x|)/√(min σ² + ε) + max|β|),
 * min σ² over the groups, or per element (`minVar` a function: batchNorm's channel variance).
 */
function normBound(x: Arr, y: Arr, gamma: Arr | undefined, beta: Arr | undefined, n: number, minVar: number | ((t: number) => number), e: number, u: number): Arr {
  const xd = flat(x);
  const yd = flat(y);
  let mx = 0;
  for (const v of xd) mx = Math.max(mx, Math.abs(v));
  const g = gamma ? Math.max(...flat(gamma).map(Math.abs)) : 1;
  const b = beta ? Math.max(...flat(beta).map(Math.abs)) : 0;
  const sOf = (t: number) => Math.sqrt((typeof minVar === 'number' ? minVar : minVar(t)) + e) || Number.MIN_VALUE;
  return fromData(
    yd.map((v, i) => (n + 10) * u * (Math.abs(v) + (g * (Math.abs(xd[i]) + mx)) / sOf(i) + b)),
    y.shape,
  );
}

/** The smallest biased variance over groups of `size` consecutive values of x viewed flat. */
function minGroupVar(xd: Float64Array, groups: number, size: number, stride: (g: number, k: number) => number): number {
  let m = Infinity;
  for (let g = 0; g < groups; g++) {
    let s = 0;
    for (let k = 0; k < size; k++) s += xd[stride(g, k)];
    const mean = s / size;
    let v = 0;
    for (let k = 0; k < size; k++) v += (xd[stride(g, k)] - mean) ** 2;
    m = Math.min(m, v / size);
  }
  return m;
}

/**
 * The channels of batchNorm's x [N, C, …] with σ = 0 at precision u: eps rounds to 0 and every value
 * of the channel rounds to the same finite number. There x̂ = (x − μ)/σ is 0/0.
 */
export function zeroSigmaChannels(x: Arr, eps: number, u: number): { c: number; value: number }[] {
  const r = rounder(u);
  if (r(eps) !== 0) return [];
  const [N, C] = x.shape;
  const inner = numel(x.shape.slice(2));
  const xd = flat(x);
  const out: { c: number; value: number }[] = [];
  for (let c = 0; c < C; c++) {
    const v = r(xd[c * inner]);
    let constant = Number.isFinite(v);
    for (let n = 0; n < N && constant; n++) for (let k = 0; k < inner && constant; k++) constant = r(xd[(n * C + c) * inner + k]) === v;
    if (constant) out.push({ c, value: v });
  }
  return out;
}

function genNorm(rng: Rng, rank: number): Inputs {
  const shape = [rng.int(2, 3), rng.int(1, 3), ...Array.from({ length: rank - 2 }, () => rng.int(1, 3))];
  return { x: randTensor(rng, shape) };
}

/** batchNorm's params resolved once, typed (the reference and the fast backends' wrapper take this). */
export const batchNormOptions = (p: Params): BatchNormOptions => ({
  training: bool(p, 'training'),
  momentum: num(p, 'momentum'),
  eps: num(p, 'eps'),
  runningVarEstimator: oneOf(p, 'runningVarEstimator', ['unbiased', 'biased']),
});

export const batchNorm = defineOp({
  name: 'batchNorm',
  options: batchNormOptions,
  /** The σ = 0 channels of batchNormBackward.admissible, in training, leave y = 0/0·γ + β undefined too (the reference gives NaN, PyTorch β). */
  admissible: (i, o, u) => (o.training ? zeroSigmaAlternatives(i.x, o.eps, u, 'y', undefined, 'its y is undefined (the reference gives NaN, PyTorch β)') : undefined),
  family: 'normalization',
  summary: 'batch normalisation, inference (running stats) or training (batch stats + running-stat update)',
  inputs: [
    input('x', '[N, C], [N, C, L] or [N, C, H, W]', [2, 3, 4, 5]),
    optional('weight', 'γ [C]', [1]),
    optional('bias', 'β [C]', [1]),
    optional('runningMean', '[C] (required in inference)', [1]),
    optional('runningVar', '[C] (required in inference)', [1]),
  ],
  params: [
    { name: 'training', schema: { type: 'boolean' }, default: false, doc: 'use batch statistics and update the running ones' },
    { name: 'momentum', schema: { type: 'number', minimum: 0, maximum: 1, title: 'a number in [0, 1]' }, default: 0.1, doc: 'PyTorch momentum: new = (1−m)·old + m·batch (Keras/ONNX μ is 1 − m)' },
    eps,
    { name: 'runningVarEstimator', schema: { enum: ['unbiased', 'biased'] }, default: 'unbiased', doc: 'variance stored in runningVar: unbiased (PyTorch) or biased (ONNX/Keras)' },
  ],
  outputs: [
    { name: 'y', doc: 'shape of x' },
    { name: 'batchMean', conditional: true, doc: '[C], training only' },
    { name: 'batchVar', conditional: true, doc: '[C] biased, training only' },
    { name: 'runningMean', conditional: true, doc: '[C] updated, training with running stats given' },
    { name: 'runningVar', conditional: true, doc: '[C] updated, training with running stats given' },
  ],
  reference(i, p) {
    const r = batchNormRef(i.x, i.weight, i.bias, i.runningMean, i.runningVar, p);
    const out: Outputs = {};
    for (const [k, v] of Object.entries(r)) if (v) out[k] = v;
    return out;
  },
  validate(i, p) {
    // what batchNormRef checks, for the fast backends too
    const C = i.x.shape[1];
    for (const name of ['weight', 'bias', 'runningMean', 'runningVar']) checkVector(i[name], C, name);
    if (p.training) checkTrainingCount(i.x);
    if (!p.training && !i.runningMean) throw invalidInputs('/inputs/runningMean', 'batchNorm in inference (training false) needs runningMean and runningVar');
    if (!p.training && !i.runningVar) throw invalidInputs('/inputs/runningVar', 'batchNorm in inference (training false) needs runningMean and runningVar');
  },
  outputShapes(i, p) {
    const C = [i.x.shape[1]];
    const out: Record<string, number[]> = { y: i.x.shape.slice() };
    if (p.training) Object.assign(out, { batchMean: C, batchVar: C }, i.runningMean && i.runningVar ? { runningMean: C, runningVar: C } : {});
    return out;
  },
  errorBound(i, p, o, u) {
    const [N, C] = i.x.shape;
    const inner = i.x.shape.slice(2).reduce((a, b) => a * b, 1);
    const xd = flat(i.x);
    const res = relativeBound(o, N * inner + 10, u);
    const minVar = p.training ? 0 : Math.min(...flat(i.runningVar)); // inference
    // training: each channel's own batch variance, so a channel with σ = 0 (eps 0, constant: its y
    // is undefined, see batchNorm.admissible) does not make every other channel's allowance infinite
    const varOf = (c: number) => minGroupVar(xd, 1, N * inner, (_g, k) => (Math.floor(k / inner) * C + c) * inner + (k % inner));
    const channelVar = p.training ? Float64Array.from({ length: C }, (_, c) => varOf(c)) : undefined;
    res.y = normBound(i.x, o.y, i.weight, i.bias, p.training ? N * inner : 4, channelVar ? (t) => channelVar[Math.floor(t / inner) % C] : minVar, p.eps, u);
    if (!p.training) {
      const rm = flat(i.runningMean).map(Math.abs);
      res.y = fromData(flat(res.y).map((v, t) => v + 4 * u * rm[Math.floor(t / inner) % C] / Math.sqrt(minVar + p.eps)), o.y.shape);
    } else {
      // the batch mean is a sum that may cancel, and the running mean's update (1 − m)·old + m·mean
      // may cancel too (PyTorch float32: 0.9·(−0.125) + 0.1·1.125 = 3.7e-9, exactly 0): both are
      // judged relative to their terms, K·u·mean|x| and K·u·((1 − m)·|old| + m·mean|x|)
      const K = N * inner + 10;
      const m = p.momentum;
      const absMean = new Float64Array(C);
      for (let t = 0; t < xd.length; t++) absMean[Math.floor(t / inner) % C] += Math.abs(xd[t]) / (N * inner);
      if (res.batchMean) res.batchMean = fromData(flat(res.batchMean).map((v, c) => v + K * u * absMean[c]), res.batchMean.shape);
      if (res.runningMean && i.runningMean) {
        const old = flat(i.runningMean);
        res.runningMean = fromData(flat(res.runningMean).map((v, c) => v + K * u * ((1 - m) * Math.abs(old[c]) + m * absMean[c])), res.runningMean.shape);
      }
    }
    return res;
  },
  generate(rng) {
    const inputs = genNorm(rng, rng.pick([2, 3, 4]));
    const C = inputs.x.shape[1];
    const training = rng.next() < 0.6;
    if (rng.next() < 0.7) {
      inputs.weight = randTensor(rng, [C], 2);
      inputs.bias = randTensor(rng, [C], 2);
    }
    if (!training || rng.next() < 0.7) {
      inputs.runningMean = randTensor(rng, [C], 1);
      inputs.runningVar = fromData(randTensor(rng, [C], 2).data.map((v) => Math.abs(v) + 0.5), [C]);
    }
    // eps 0 with a constant channel leaves that channel's y and gradients undefined (0/0): such a
    // case says nothing about an implementation, so eps falls back to 1e-5 there (no draw changes)
    const params = { training, momentum: rng.pick([0.1, 0.01, 0.5]), eps: rng.pick([1e-5, 1e-3, 0]), runningVarEstimator: rng.pick(['unbiased', 'biased']) };
    if (params.eps === 0 && zeroSigmaChannels(inputs.x, 0, 2 ** -24).length) params.eps = 1e-5;
    return { inputs, params };
  },
});

/** layerNorm's params resolved once: normalizedShape always a list. */
export interface LayerNormOptions {
  normalizedShape: number[];
  eps: number;
}
export const layerNormOptions = (p: Params): LayerNormOptions => ({
  normalizedShape: ints(p, 'normalizedShape'),
  eps: num(p, 'eps'),
});

export const layerNorm = defineOp({
  name: 'layerNorm',
  options: layerNormOptions,
  family: 'normalization',
  summary: 'layer normalisation over the trailing dims normalizedShape',
  inputs: [input('x', 'any shape ending in normalizedShape'), optional('weight', 'γ, shape normalizedShape'), optional('bias', 'β, shape normalizedShape')],
  params: [
    { name: 'normalizedShape', schema: { title: 'a positive integer or an array of them', oneOf: [{ type: 'integer', minimum: 1 }, { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 }] }, doc: 'trailing dims to normalise over (required)' },
    eps,
  ],
  outputs: [{ name: 'y', doc: 'shape of x' }],
  reference: (i, p) => ({ y: layerNormRef(i.x, i.weight, i.bias, p.normalizedShape, p.eps) }),
  validate: (i, p) => checkLayerNorm(i.x, i.weight, i.bias, p.normalizedShape),
  outputShapes: (i) => ({ y: i.x.shape.slice() }),
  errorBound(i, p, o, u) {
    const ns = p.normalizedShape;
    const size = ns.reduce((a, b) => a * b, 1);
    const xd = flat(i.x);
    const groups = xd.length / size;
    return { y: normBound(i.x, o.y, i.weight, i.bias, size, minGroupVar(xd, groups, size, (g, k) => g * size + k), p.eps, u) };
  },
  generate(rng) {
    const { x } = genNorm(rng, rng.pick([2, 3, 4]));
    const r = rng.int(1, x.shape.length - 1);
    const ns = x.shape.slice(x.shape.length - r);
    const inputs: Inputs = { x };
    if (rng.next() < 0.6) {
      inputs.weight = randTensor(rng, ns, 2);
      inputs.bias = randTensor(rng, ns, 2);
    }
    return { inputs, params: { normalizedShape: ns, eps: rng.pick([1e-5, 1e-3]) } };
  },
});

const groupedBound = <O extends { eps: number }>(groupsOf: (i: Inputs, o: O) => number) =>
  function (i: Inputs, p: O, o: Outputs, u: number): Outputs {
    const [N, C] = i.x.shape;
    const inner = i.x.shape.slice(2).reduce((a, b) => a * b, 1);
    const G = groupsOf(i, p);
    const size = (C / G) * inner;
    return { y: normBound(i.x, o.y, i.weight, i.bias, size, minGroupVar(flat(i.x), N * G, size, (g, k) => g * size + k), p.eps, u) };
  };

export const instanceNorm = defineOp({
  name: 'instanceNorm',
  options: (p): { eps: number } => ({ eps: num(p, 'eps') }),
  family: 'normalization',
  summary: 'instance normalisation: statistics per (n, c) over the spatial dims',
  inputs: [input('x', '[N, C, …spatial]', [3, 4, 5]), optional('weight', 'γ [C]', [1]), optional('bias', 'β [C]', [1])],
  params: [eps],
  outputs: [{ name: 'y', doc: 'shape of x' }],
  reference: (i, p) => ({ y: instanceNormRef(i.x, i.weight, i.bias, p.eps) }),
  errorBound: groupedBound((i) => i.x.shape[1]),
  generate: (rng) => ({ inputs: { x: randTensor(rng, [rng.int(1, 2), rng.int(1, 3), rng.int(2, 3), rng.int(1, 3)]) }, params: { eps: 1e-5 } }),
});

export interface GroupNormOptions {
  numGroups: number;
  eps: number;
}
export const groupNorm = defineOp({
  name: 'groupNorm',
  options: (p): GroupNormOptions => ({ numGroups: num(p, 'numGroups'), eps: num(p, 'eps') }),
  family: 'normalization',
  summary: 'group normalisation: statistics per (n, group of C/G channels), affine per channel',
  inputs: [input('x', '[N, C, …]', [2, 3, 4, 5]), optional('weight', 'γ [C]', [1]), optional('bias', 'β [C]', [1])],
  params: [{ name: 'numGroups', schema: { type: 'integer', minimum: 1 }, doc: 'G, dividing C (required)' }, eps],
  outputs: [{ name: 'y', doc: 'shape of x' }],
  reference: (i, p) => ({ y: groupNormRef(i.x, i.weight, i.bias, p.numGroups, p.eps) }),
  validate: (i, p) => checkGroupNorm(i.x, i.weight, i.bias, p.numGroups),
  outputShapes: (i) => ({ y: i.x.shape.slice() }),
  errorBound: groupedBound((_i, p: GroupNormOptions) => p.numGroups),
  generate(rng) {
    const G = rng.int(1, 2);
    const C = G * rng.int(1, 2);
    const inputs: Inputs = { x: randTensor(rng, [rng.int(1, 2), C, rng.int(1, 3), rng.int(2, 3)]) };
    if (rng.next() < 0.6) {
      inputs.weight = randTensor(rng, [C], 2);
      inputs.bias = randTensor(rng, [C], 2);
    }
    return { inputs, params: { numGroups: G, eps: 1e-5 } };
  },
});

export interface LocalResponseNormOptions {
  size: number;
  alpha: number;
  beta: number;
  k: number;
}
export const localResponseNorm = defineOp({
  name: 'localResponseNorm',
  options: (p): LocalResponseNormOptions => ({ size: num(p, 'size'), alpha: num(p, 'alpha'), beta: num(p, 'beta'), k: num(p, 'k') }),
  family: 'normalization',
  summary: 'local response normalisation across channels (α divided by size, PyTorch)',
  inputs: [input('x', '[N, C, …]', [3, 4, 5])],
  params: [
    { name: 'size', schema: { type: 'integer', minimum: 1 }, doc: 'channels in the window (required)' },
    { name: 'alpha', schema: { type: 'number' }, default: 1e-4, doc: 'scale (divided by size)' },
    { name: 'beta', schema: { type: 'number' }, default: 0.75, doc: 'exponent' },
    { name: 'k', schema: { type: 'number' }, default: 1, doc: 'additive constant' },
  ],
  outputs: [{ name: 'y', doc: 'shape of x' }],
  reference: (i, p) => ({ y: localResponseNormRef(i.x, p.size, p.alpha, p.beta, p.k) }),
  errorBound: (i, p, o, u) => relativeBound(o, p.size + 12, u),
  generate: (rng) => ({ inputs: { x: randTensor(rng, [1, rng.int(1, 5), rng.int(1, 3), rng.int(1, 3)]) }, params: { size: rng.int(1, 5), alpha: rng.pick([1e-4, 0.1, 1]), beta: 0.75, k: rng.pick([1, 2]) } }),
});

export const batchNormBackward = backwardOf(batchNorm, {
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  summary: 'gradients of batchNorm through the batch statistics (training mode): dx, dweight, dbias',
  forwardParams: (p) => ({ ...p, training: true }),
  /**
   * With eps 0, a channel whose values are all equal has σ = 0: x̂ = 0/0, and the channel's dx and
   * dweight are undefined (the reference gives NaN, PyTorch 0: its invstd is 0 when var + eps is 0).
   * Any value of them is accepted, one `any` block per output per such channel; dbias = Σ dy is defined.
   */
  admissible: (i, o, u) => zeroSigmaAlternatives(i.x, o.eps, u, 'dx', 'dweight', 'its dx and dweight are undefined (the reference gives NaN, PyTorch 0)'),
  reference(i, p) {
    const [N, C] = i.x.shape;
    const inner = numel(i.x.shape.slice(2));
    const g = checkDy(i.dy, i.x.shape);
    const r = normBackward(flat(i.x), g, C, N * inner, (c, k) => (Math.floor(k / inner) * C + c) * inner + (k % inner), p.eps, i.weight && flat(i.weight), (t) => Math.floor(t / inner) % C, C);
    return normOut(i.x, r, [C]);
  },
  cancellation(i, p, u) {
    const [N, C] = i.x.shape;
    const inner = numel(i.x.shape.slice(2));
    return normCancellation(flat(i.x), flat(i.dy), C, N * inner, (c, k) => (Math.floor(k / inner) * C + c) * inner + (k % inner), p.eps, i.weight && flat(i.weight), (t) => Math.floor(t / inner) % C, C, u, i.x.shape, [C]);
  },
});

export const layerNormBackward = backwardOf(layerNorm, {
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference(i, p) {
    const ns = p.normalizedShape;
    const size = numel(ns);
    const g = checkDy(i.dy, i.x.shape);
    const r = normBackward(flat(i.x), g, numel(i.x.shape) / size, size, (grp, k) => grp * size + k, p.eps, i.weight && flat(i.weight), (t) => t % size, size);
    return normOut(i.x, r, ns);
  },
  cancellation(i, p, u) {
    const ns = p.normalizedShape;
    const size = numel(ns);
    return normCancellation(flat(i.x), flat(i.dy), numel(i.x.shape) / size, size, (grp, k) => grp * size + k, p.eps, i.weight && flat(i.weight), (t) => t % size, size, u, i.x.shape, ns);
  },
});

export const groupNormBackward = backwardOf(groupNorm, {
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference(i, p) {
    const [N, C] = i.x.shape;
    const G = p.numGroups;
    const inner = numel(i.x.shape.slice(2));
    const size = (C / G) * inner;
    const g = checkDy(i.dy, i.x.shape);
    const r = normBackward(flat(i.x), g, N * G, size, (grp, k) => grp * size + k, p.eps, i.weight && flat(i.weight), (t) => Math.floor(t / inner) % C, C);
    return normOut(i.x, r, [C]);
  },
  cancellation(i, p, u) {
    const [N, C] = i.x.shape;
    const G = p.numGroups;
    const inner = numel(i.x.shape.slice(2));
    const size = (C / G) * inner;
    return normCancellation(flat(i.x), flat(i.dy), N * G, size, (grp, k) => grp * size + k, p.eps, i.weight && flat(i.weight), (t) => Math.floor(t / inner) % C, C, u, i.x.shape, [C]);
  },
});

/** `any` blocks over the σ = 0 channels: their positions in the x-shaped output `xOut`, and [c] in the per-channel output `perChannel`. */
function zeroSigmaAlternatives(x: Arr, eps: number, u: number, xOut: string, perChannel: string | undefined, consequence: string): Admissible | undefined {
  const zero = zeroSigmaChannels(x, eps, u);
  if (!zero.length) return undefined;
  const [N, C] = x.shape;
  const inner = numel(x.shape.slice(2));
  const blocks: AdmissibleBlock[] = [];
  for (const { c } of zero) {
    const at: number[] = [];
    for (let n = 0; n < N; n++) for (let k = 0; k < inner; k++) at.push((n * C + c) * inner + k);
    blocks.push({ name: xOut, at, values: [], any: true });
    if (perChannel) blocks.push({ name: perChannel, at: [c], values: [], any: true });
  }
  return {
    outputs: [],
    blocks,
    why: undefinedReason(zero.map(({ c, value }) => `channel ${c}: eps is 0 and every x of the channel is ${value}, so σ = 0 and x̂ = (x − μ)/σ is 0/0; ${consequence}`)),
  };
}

register(batchNorm, layerNorm, instanceNorm, groupNorm, localResponseNorm, batchNormBackward, layerNormBackward, groupNormBackward);
