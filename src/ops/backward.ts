/**
 * Registry entries of the backward passes: each is derived from its forward op's declaration —
 * inputs = the forward inputs plus `dy`, params = the forward params, outputs = `d<input>`.
 */
import { getOp, register, resolveParams, type Inputs, type OpDef, type Outputs, type Params } from '../registry.js';
import * as B from '../reference/backward.js';
import { sigmoidRef, tanhRef } from '../reference/activation.js';
import { upsampleSize } from '../reference/resample.js';
import type { Reduction } from '../reference/loss.js';
import { perDim } from '../params.js';
import { flat } from '../reference/common.js';
import { fromData, numel, shapeString, type Arr } from '../tensor.js';
import { invalidInputs } from '../errors.js';
import { input, randTensor } from './helpers.js';
import { convGeometry } from './conv.js';
import { transposedGeometry } from './transposed.js';
import { poolGeometry } from './pooling.js';
import { unpoolOutSize } from './resample.js';


/**
 * Error of a backward output at precision u: the gradients are sums of products of dy with forward
 * quantities, so K·u·(|g| + max|g|) with K growing with the number of terms.
 */
function gradBound(o: Outputs, u: number, terms: number): Outputs {
  const res: Outputs = {};
  for (const [k, a] of Object.entries(o)) {
    const d = flat(a);
    let m = 0;
    for (const v of d) m = Math.max(m, Math.abs(v));
    res[k] = fromData(d.map((v) => (terms + 16) * u * (Math.abs(v) + m)), a.shape);
  }
  return res;
}

interface BackwardSpec {
  forward: string;
  /** Output name → forward input it differentiates. */
  gradOf: Record<string, string>;
  reference(inputs: Inputs, params: Params): Outputs;
  /** Params the forward must run with (gradient checking, case generation). */
  forwardParams?: (p: Params) => Params;
  summary?: string;
  /** Losses: dy may be left out and is then 1 (ones of the loss's shape), the seed of loss.backward(). */
  dyOptional?: boolean;
  /**
   * Where the gradient is a difference of larger terms (normalisations, tanh, sigmoid, softmax),
   * what a correct implementation may be off by beyond gradBound: rounding relative to those
   * terms, not to the (possibly much smaller) result. Added to gradBound.
   */
  cancellation?: (i: Inputs, p: Params, u: number) => Outputs;
}

/** Adds the per-element allowances of `b` to those of `a` (same keys and shapes). */
function addBounds(a: Outputs, b: Outputs): Outputs {
  const out: Outputs = {};
  for (const [k, x] of Object.entries(a)) {
    const y = b[k] ? flat(b[k]) : undefined;
    out[k] = y ? fromData(flat(x).map((v, j) => v + y[j]), x.shape) : x;
  }
  return out;
}

/**
 * The cancellation bound of a normalisation's gradient, per group of n members with mean μ and
 * σ = √(var + eps), g = dy·γ:
 *   dx = (g − mean g − x̂·mean(g·x̂)) / σ,  dγ = Σ dy·x̂,  dβ = Σ dy.
 * x̂ = (x − μ)/σ carries an absolute error of about u·S with S = max(|x| + |μ|)/σ over the group
 * (μ is rounded relative to |x|, not to |x − μ|), and frameworks form dx as a·g + b·x + c, whose
 * terms reach mean|g|·S²/σ (PyTorch's CPU kernels), so a correct float implementation may be
 * off by K·u·(|g| + (1 + S²)·mean|g|)/σ in dx and K·u·Σ|dy|·(|x̂| + S) in dγ, K = n + 16. The
 * reference itself rounds the last subtraction, so it needs the same allowance at float64.
 */
function normCancellation(x: Float64Array, dy: Float64Array, groups: number, n: number, member: (grp: number, k: number) => number, eps: number, gamma: Float64Array | undefined, affine: (t: number) => number, affineSize: number, u: number, xShape: number[], affineShape: number[]): Outputs {
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(affineSize);
  const K = n + 16;
  for (let grp = 0; grp < groups; grp++) {
    let mean = 0;
    for (let k = 0; k < n; k++) mean += x[member(grp, k)];
    mean /= n;
    let v = 0;
    for (let k = 0; k < n; k++) v += (x[member(grp, k)] - mean) ** 2;
    const sigma = Math.sqrt(v / n + eps);
    let S = 0;
    let meanG = 0;
    for (let k = 0; k < n; k++) {
      const t = member(grp, k);
      S = Math.max(S, (Math.abs(x[t]) + Math.abs(mean)) / sigma);
      meanG += Math.abs(dy[t] * (gamma ? gamma[affine(t)] : 1));
    }
    meanG /= n;
    for (let k = 0; k < n; k++) {
      const t = member(grp, k);
      const g = Math.abs(dy[t] * (gamma ? gamma[affine(t)] : 1));
      dx[t] = (K * u * (g + (1 + S * S) * meanG)) / sigma;
      dw[affine(t)] += K * u * Math.abs(dy[t]) * (Math.abs(x[t] - mean) / sigma + S);
    }
  }
  return { dx: fromData(dx, xShape), dweight: fromData(dw, affineShape) };
}

function backwardOf(spec: BackwardSpec): OpDef {
  const fwd = getOp(spec.forward);
  const outName = fwd.outputs[0].name;
  return {
    name: `${spec.forward}Backward`,
    family: 'backward',
    summary: spec.summary ?? `gradients of ${spec.forward} (${Object.keys(spec.gradOf).join(', ')})`,
    inputs: [
      ...fwd.inputs,
      spec.dyOptional
        ? { ...input('dy', `gradient w.r.t. the forward output ${outName} (its shape); optional, default 1 (ones), the seed of loss.backward()`), optional: true }
        : input('dy', `gradient of the loss w.r.t. the forward output ${outName} (its shape)`),
    ],
    params: fwd.params,
    outputs: Object.entries(spec.gradOf).map(([name, of]) => ({ name, doc: `∂L/∂${of}, shape of ${of}` })),
    reference: spec.dyOptional
      ? (i, p) => {
          if (i.dy) return spec.reference(i, p);
          const shape = fwd.reference(i, p)[outName].shape;
          return spec.reference({ ...i, dy: fromData(new Float64Array(numel(shape)).fill(1), shape) }, p);
        }
      : spec.reference,
    /**
     * A backward op is validated by its forward op: the forward runs on the same inputs and params
     * (so every shape, param and budget rule of the forward holds) and dy must have the shape of
     * its output.
     */
    validate(i, p) {
      const fwdInputs: Inputs = {};
      for (const s of fwd.inputs) if (i[s.name]) fwdInputs[s.name] = i[s.name];
      const y = fwd.reference(fwdInputs, spec.forwardParams ? spec.forwardParams(p) : p)[outName];
      if (i.dy && y && shapeString(i.dy.shape) !== shapeString(y.shape)) {
        throw invalidInputs('/inputs/dy/shape', `dy must have the shape of the forward output ${shapeString(y.shape)} (${spec.forward}'s ${outName}); got ${shapeString(i.dy.shape)}`);
      }
    },
    errorBound(i, p, o, u) {
      const terms = (i.dy ? numel(i.dy.shape) : Math.max(...Object.values(o).map((a) => numel(a.shape)))) + Math.max(...Object.values(spec.gradOf).map((k) => (i[k] ? numel(i[k].shape) : 0)));
      const g = gradBound(o, u, terms);
      return spec.cancellation ? addBounds(g, spec.cancellation(i, p, u)) : g;
    },
    backward: { forward: spec.forward, gradOf: spec.gradOf, forwardParams: spec.forwardParams },
    generate(rng) {
      const g = fwd.generate!(rng);
      const params = spec.forwardParams ? spec.forwardParams(g.params) : g.params;
      const out = fwd.reference(g.inputs, resolveParams(fwd, params));
      return { inputs: { ...g.inputs, dy: randTensor(rng, out[outName].shape, 2) }, params, tags: g.tags };
    },
  };
}

const convOut = (r: { dx: Arr; dweight: Arr; dbias: Arr }): Outputs => ({ dx: r.dx, dweight: r.dweight, dbias: r.dbias });
const as2d = (a: Arr): Arr => fromData(flat(a), [a.shape[0], a.shape[1], 1, a.shape[2]]);
const as1d = (a: Arr): Arr => fromData(a.data, [a.shape[0], a.shape[1], a.shape[3]]);

const conv2dBackward = backwardOf({
  forward: 'conv2d',
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference: (i, p) => convOut(B.conv2dBackwardRef(i.x, i.weight, i.bias, i.dy, convGeometry(p, i.weight.shape.slice(2), 2))),
});

const conv1dBackward = backwardOf({
  forward: 'conv1d',
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference(i, p) {
    const g = convGeometry(p, i.weight.shape.slice(2), 1);
    const r = B.conv2dBackwardRef(as2d(i.x), as2d(i.weight), i.bias, as2d(i.dy), {
      ...g,
      stride: [1, g.stride[0]],
      dilation: [1, g.dilation[0]],
      pads: { begin: [0, g.pads.begin[0]], end: [0, g.pads.end[0]] },
    });
    return { dx: as1d(r.dx), dweight: as1d(r.dweight), dbias: r.dbias };
  },
});

const convTranspose2dBackward = backwardOf({
  forward: 'convTranspose2d',
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference: (i, p) => convOut(B.convTranspose2dBackwardRef(i.x, i.weight, i.bias, i.dy, transposedGeometry(p, 2, i.weight.shape.slice(2)))),
});

const linearBackward = backwardOf({
  forward: 'linear',
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference: (i) => convOut(B.linearBackwardRef(i.x, i.weight, i.dy)),
});

const maxPool2dBackward = backwardOf({
  forward: 'maxPool2d',
  gradOf: { dx: 'x' },
  reference: (i, p) => ({ dx: B.maxPool2dBackwardRef(i.x, i.dy, poolGeometry(p, 2)) }),
});

const avgPool2dBackward = backwardOf({
  forward: 'avgPool2d',
  gradOf: { dx: 'x' },
  reference: (i, p) => ({
    dx: B.avgPool2dBackwardRef(i.x, i.dy, poolGeometry(p, 2), { countIncludePad: p.countIncludePad as boolean, divisorOverride: p.divisorOverride as number | undefined }),
  }),
});

const adaptiveAvgPool2dBackward = backwardOf({
  forward: 'adaptiveAvgPool2d',
  gradOf: { dx: 'x' },
  reference(i, p) {
    const [h, w] = perDim(p.outputSize, 2);
    return { dx: B.adaptiveAvgPool2dBackwardRef(i.x, i.dy, h, w) };
  },
});

/** dweight/dbias of a normalisation, shaped like γ (all ones / zeros when γ, β are absent). */
function normOut(x: Arr, r: { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array }, affineShape: number[]): Outputs {
  return { dx: fromData(r.dx, x.shape), dweight: fromData(r.dgamma, affineShape), dbias: fromData(r.dbeta, affineShape) };
}

const batchNormBackward = backwardOf({
  forward: 'batchNorm',
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  summary: 'gradients of batchNorm through the batch statistics (training mode): dx, dweight, dbias',
  forwardParams: (p) => ({ ...p, training: true }),
  reference(i, p) {
    const [N, C] = i.x.shape;
    const inner = numel(i.x.shape.slice(2));
    const g = B.checkDy(i.dy, i.x.shape);
    const r = B.normBackward(flat(i.x), g, C, N * inner, (c, k) => (Math.floor(k / inner) * C + c) * inner + (k % inner), p.eps as number, i.weight && flat(i.weight), (t) => Math.floor(t / inner) % C, C);
    return normOut(i.x, r, [C]);
  },
  cancellation(i, p, u) {
    const [N, C] = i.x.shape;
    const inner = numel(i.x.shape.slice(2));
    return normCancellation(flat(i.x), flat(i.dy), C, N * inner, (c, k) => (Math.floor(k / inner) * C + c) * inner + (k % inner), p.eps as number, i.weight && flat(i.weight), (t) => Math.floor(t / inner) % C, C, u, i.x.shape, [C]);
  },
});

const layerNormBackward = backwardOf({
  forward: 'layerNorm',
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference(i, p) {
    const ns = typeof p.normalizedShape === 'number' ? [p.normalizedShape] : (p.normalizedShape as number[]);
    getOp('layerNorm').reference({ x: i.x, ...(i.weight ? { weight: i.weight } : {}), ...(i.bias ? { bias: i.bias } : {}) }, p); // validates shapes
    const size = numel(ns);
    const g = B.checkDy(i.dy, i.x.shape);
    const r = B.normBackward(flat(i.x), g, numel(i.x.shape) / size, size, (grp, k) => grp * size + k, p.eps as number, i.weight && flat(i.weight), (t) => t % size, size);
    return normOut(i.x, r, ns);
  },
  cancellation(i, p, u) {
    const ns = typeof p.normalizedShape === 'number' ? [p.normalizedShape] : (p.normalizedShape as number[]);
    const size = numel(ns);
    return normCancellation(flat(i.x), flat(i.dy), numel(i.x.shape) / size, size, (grp, k) => grp * size + k, p.eps as number, i.weight && flat(i.weight), (t) => t % size, size, u, i.x.shape, ns);
  },
});

const groupNormBackward = backwardOf({
  forward: 'groupNorm',
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference(i, p) {
    getOp('groupNorm').reference({ x: i.x, ...(i.weight ? { weight: i.weight } : {}), ...(i.bias ? { bias: i.bias } : {}) }, p); // validates shapes
    const [N, C] = i.x.shape;
    const G = p.numGroups as number;
    const inner = numel(i.x.shape.slice(2));
    const size = (C / G) * inner;
    const g = B.checkDy(i.dy, i.x.shape);
    const r = B.normBackward(flat(i.x), g, N * G, size, (grp, k) => grp * size + k, p.eps as number, i.weight && flat(i.weight), (t) => Math.floor(t / inner) % C, C);
    return normOut(i.x, r, [C]);
  },
  cancellation(i, p, u) {
    const [N, C] = i.x.shape;
    const G = p.numGroups as number;
    const inner = numel(i.x.shape.slice(2));
    const size = (C / G) * inner;
    return normCancellation(flat(i.x), flat(i.dy), N * G, size, (grp, k) => grp * size + k, p.eps as number, i.weight && flat(i.weight), (t) => Math.floor(t / inner) % C, C, u, i.x.shape, [C]);
  },
});

const reluBackward = backwardOf({ forward: 'relu', gradOf: { dx: 'x' }, reference: (i) => ({ dx: B.reluBackwardRef(i.x, i.dy) }) });
const leakyReluBackward = backwardOf({ forward: 'leakyRelu', gradOf: { dx: 'x' }, reference: (i, p) => ({ dx: B.leakyReluBackwardRef(i.x, i.dy, p.negativeSlope as number) }) });
/**
 * sigmoid′ = y·(1 − y) and tanh′ = 1 − y² are formed from the rounded forward output y, as every
 * framework does: 1 − y loses u·|y| absolutely, 1 − y² about 2u·y², so near saturation a correct
 * float implementation is off by 16u·|dy|·y·(1 + y) (sigmoid) and 16u·|dy|·(1 + y²) (tanh), far
 * more than relative to the tiny derivative.
 */
const elementwiseCancellation = (f: (y: number) => number, y: (x: Arr) => Arr) => (i: Inputs, _p: Params, u: number): Outputs => {
  const yd = flat(y(i.x));
  const g = flat(i.dy);
  return { dx: fromData(yd.map((v, k) => 16 * u * Math.abs(g[k]) * f(v)), i.x.shape) };
};
const sigmoidBackward = backwardOf({
  forward: 'sigmoid',
  gradOf: { dx: 'x' },
  reference: (i) => ({ dx: B.sigmoidBackwardRef(i.x, sigmoidRef(i.x), i.dy) }),
  cancellation: elementwiseCancellation((y) => y * (1 + y), sigmoidRef),
});
const tanhBackward = backwardOf({
  forward: 'tanh',
  gradOf: { dx: 'x' },
  reference: (i) => ({ dx: B.tanhBackwardRef(i.x, tanhRef(i.x), i.dy) }),
  cancellation: elementwiseCancellation((y) => 1 + y * y, tanhRef),
});
/**
 * softmax′: dx_k = y_k·(dy_k − Σ_j dy_j·y_j), a difference of terms up to |dy_k| and Σ|dy_j|·y_j:
 * a correct float implementation may be off by (n + 16)·u·y_k·(|dy_k| + Σ_j |dy_j|·y_j).
 */
const softmaxBackward = backwardOf({
  forward: 'softmax',
  gradOf: { dx: 'x' },
  reference: (i, p) => ({ dx: B.softmaxBackwardRef(i.x, i.dy, p.dim as number) }),
  cancellation(i, p, u) {
    const x = i.x;
    const d = (p.dim as number) < 0 ? x.shape.length + (p.dim as number) : (p.dim as number);
    const y = flat(getOp('softmax').reference({ x }, p).y);
    const g = flat(i.dy);
    const size = x.shape[d];
    const inner = numel(x.shape.slice(d + 1));
    const outer = y.length / (size * inner);
    const out = new Float64Array(y.length);
    for (let o = 0; o < outer; o++)
      for (let q = 0; q < inner; q++) {
        const base = o * size * inner + q;
        let s = 0;
        for (let k = 0; k < size; k++) s += Math.abs(g[base + k * inner]) * y[base + k * inner];
        for (let k = 0; k < size; k++) out[base + k * inner] = (size + 16) * u * y[base + k * inner] * (Math.abs(g[base + k * inner]) + s);
      }
    return { dx: fromData(out, x.shape) };
  },
});

const crossEntropyBackward = backwardOf({
  forward: 'crossEntropy',
  dyOptional: true,
  gradOf: { dlogits: 'logits' },
  reference: (i, p) => ({
    dlogits: B.crossEntropyBackwardRef(i.logits, i.target, i.dy, p.reduction as Reduction, p.labelSmoothing as number, p.ignoreIndex as number),
  }),
  /**
   * dlogits = s·(p·Σt′ − t′): where the softmax p is close to the smoothed target t′ the result is
   * far below its terms, and a correct implementation is off by (C + 16)·u·|s|·(p·Σt′ + t′).
   */
  cancellation(i, p, u) {
    const [N, C] = i.logits.shape;
    const probs = flat(getOp('softmax').reference({ x: i.logits }, { dim: 1 }).y);
    const td = flat(i.target);
    const byIndex = i.target.shape.length === 1;
    const eps = p.labelSmoothing as number;
    const g = i.dy ? flat(i.dy) : new Float64Array(p.reduction === 'none' ? N : 1).fill(1);
    const counted = byIndex ? Array.from(td).filter((t) => t !== p.ignoreIndex).length : N;
    const out = new Float64Array(N * C);
    for (let n = 0; n < N; n++) {
      if (byIndex && td[n] === p.ignoreIndex) continue;
      const s = Math.abs(p.reduction === 'none' ? g[n] : p.reduction === 'sum' ? g[0] : g[0] / Math.max(counted, 1));
      let total = 0;
      const tp = new Float64Array(C);
      for (let c = 0; c < C; c++) {
        tp[c] = Math.abs((byIndex ? (c === td[n] ? 1 - eps : 0) : (1 - eps) * td[n * C + c]) + eps / C);
        total += tp[c];
      }
      for (let c = 0; c < C; c++) out[n * C + c] = (C + 16) * u * s * (probs[n * C + c] * total + tp[c]);
    }
    return { dlogits: fromData(out, i.logits.shape) };
  },
});

const roiPoolBackward = backwardOf({
  forward: 'roiPool',
  gradOf: { dx: 'x' },
  reference(i, p) {
    const [ph, pw] = perDim(p.outputSize, 2);
    return { dx: B.roiPoolBackwardRef(i.x, i.boxes, i.dy, ph, pw, p.spatialScale as number) };
  },
});

const roiAlignBackward = backwardOf({
  forward: 'roiAlign',
  gradOf: { dx: 'x' },
  reference(i, p) {
    const [ph, pw] = perDim(p.outputSize, 2);
    getOp('roiAlign').reference({ x: i.x, boxes: i.boxes }, p); // validates boxes and batch indices
    return { dx: B.roiAlignBackwardRef(i.x, i.boxes, i.dy, { ph, pw, spatialScale: p.spatialScale as number, samplingRatio: p.samplingRatio as number, aligned: p.aligned as boolean }) };
  },
});

const upsample2dBackward = backwardOf({
  forward: 'upsample2d',
  gradOf: { dx: 'x' },
  reference(i, p) {
    getOp('upsample2d').reference({ x: i.x }, p); // validates the params
    const { out, scale } = upsampleSize(i.x.shape[2], i.x.shape[3], p.size, p.scaleFactor);
    return { dx: B.upsample2dBackwardRef(i.x, i.dy, out[0], out[1], p.mode as 'nearest' | 'bilinear', p.alignCorners as boolean, scale) };
  },
});

const maxUnpool2dBackward = backwardOf({
  forward: 'maxUnpool2d',
  gradOf: { dx: 'x' },
  reference(i, p) {
    getOp('maxUnpool2d').reference({ x: i.x, indices: i.indices }, p); // validates indices and size
    const [h, w] = unpoolOutSize(i.x, p);
    return { dx: B.maxUnpool2dBackwardRef(i.x, i.indices, i.dy, h, w) };
  },
});

export const BACKWARD_OPS = [
  conv1dBackward,
  conv2dBackward,
  convTranspose2dBackward,
  linearBackward,
  maxPool2dBackward,
  avgPool2dBackward,
  adaptiveAvgPool2dBackward,
  batchNormBackward,
  layerNormBackward,
  groupNormBackward,
  reluBackward,
  leakyReluBackward,
  sigmoidBackward,
  tanhBackward,
  softmaxBackward,
  crossEntropyBackward,
  roiAlignBackward,
  roiPoolBackward,
  upsample2dBackward,
  maxUnpool2dBackward,
];
register(...BACKWARD_OPS);
