/** Registry entries: relu, leakyRelu, sigmoid, tanh, hardswish, softmax, logSoftmax, and their backward ops. */
import { type Admissible, type AdmissibleBlock, defineOp, type Inputs, type OpDef, type Outputs, type Params, register } from '../registry.js';
import { num } from '../params.js';
import { ambiguityReason, rounder } from '../judge/admissible.js';
import { hardswishBackwardRef, hardswishRef, leakyReluBackwardRef, leakyReluRef, reluBackwardRef, reluRef, sigmoidBackwardRef, sigmoidRef, softmaxBackwardRef, softmaxRef, tanhBackwardRef, tanhRef } from '../reference/activation.js';
import { input, randTensor } from './helpers.js';
import { relativeBound } from '../judge/bounds.js';
import { flat, resolveDim } from '../reference/common.js';
import { fromData, numel } from '../tensor.js';
import type { Rng } from '../rng.js';
import { backwardOf, elementwiseCancellation } from './backward.js';

const genX = (rng: Rng) => ({ inputs: { x: randTensor(rng, [rng.int(1, 2), rng.int(1, 5)], 6) }, params: {} });

/** The options of an op without params. */
const noOptions = (): Record<string, never> => ({});

const elementwise = <O>(name: string, summary: string, ref: (i: Inputs, o: O) => Outputs, ulps: number, options: (p: Params) => O, params: OpDef['params'] = []) => defineOp({
  name,
  family: 'activation',
  summary,
  inputs: [input('x', 'any shape')],
  params,
  outputs: [{ name: 'y', doc: 'shape of x' }],
  options,
  reference: ref,
  outputShapes: (i) => ({ y: i.x.shape.slice() }),
  ulps,
  generate: genX,
});

export const relu = elementwise('relu', 'max(0, x)', (i) => ({ y: reluRef(i.x) }), 0, noOptions);
export const leakyRelu = elementwise('leakyRelu', 'x if x ≥ 0 else negativeSlope·x', (i, p) => ({ y: leakyReluRef(i.x, p.negativeSlope) }), 1, (p: Params) => ({ negativeSlope: num(p, 'negativeSlope') }), [
  { name: 'negativeSlope', schema: { type: 'number' }, default: 0.01, doc: 'slope for x < 0 (PyTorch 0.01; Keras 0.3)' },
]);
export const sigmoid = elementwise('sigmoid', '1 / (1 + e^−x)', (i) => ({ y: sigmoidRef(i.x) }), 4, noOptions);
export const tanh = elementwise('tanh', 'hyperbolic tangent', (i) => ({ y: tanhRef(i.x) }), 4, noOptions);
export const hardswish = elementwise('hardswish', 'x·min(max(x + 3, 0), 6)/6 (MobileNetV3)', (i) => ({ y: hardswishRef(i.x) }), 3, noOptions);

/**
 * Softmax error: a naive float sum of the exponentials is off by γ_size relatively, the exp and the
 * division add a few ulps. Log-softmax's error is absolute: u·(|x| + |m| + |log Σ|) + γ_size.
 */
/** softmax's and logSoftmax's params resolved once (dim as given: negative counts from the end). */
export interface SoftmaxOptions {
  dim: number;
}
export const softmaxOptions = (p: Params): SoftmaxOptions => ({ dim: num(p, 'dim') });

const softmaxLike = (name: 'softmax' | 'logSoftmax', log: boolean) => defineOp({
  name,
  family: 'activation',
  summary: log ? 'log of softmax along dim, max-shifted (no overflow at ±1000)' : 'e^(x−max) / Σ e^(x−max) along dim',
  inputs: [input('x', 'any shape')],
  params: [{ name: 'dim', schema: { type: 'integer' }, default: 1, doc: 'axis to normalise (negative counts from the end)' }],
  outputs: [{ name: 'y', doc: 'shape of x' }],
  options: softmaxOptions,
  reference: (i, p) => ({ y: softmaxRef(i.x, p.dim, log) }),
  validate: (i, p) => void resolveDim(p.dim, i.x.shape.length, '/params/dim'),
  outputShapes: (i) => ({ y: i.x.shape.slice() }),
  errorBound(i, p, o, u) {
    const rank = i.x.shape.length;
    const d = p.dim < 0 ? p.dim + rank : p.dim;
    const size = i.x.shape[d] ?? 1;
    if (!log) return relativeBound(o, size + 6, u);
    const x = flat(i.x);
    const y = flat(o.y);
    const out = new Float64Array(y.length);
    for (let k = 0; k < y.length; k++) out[k] = (size + 6) * u * (2 * Math.abs(x[k]) + Math.abs(y[k]) + 1);
    return { y: fromData(out, o.y.shape) };
  },
  generate: genX,
});

export const softmax = softmaxLike('softmax', false);
export const logSoftmax = softmaxLike('logSoftmax', true);

export const reluBackward = backwardOf(relu, { gradOf: { dx: 'x' }, reference: (i) => ({ dx: reluBackwardRef(i.x, i.dy) }) });
export const leakyReluBackward = backwardOf(leakyRelu, { gradOf: { dx: 'x' }, reference: (i, p) => ({ dx: leakyReluBackwardRef(i.x, i.dy, p.negativeSlope) }) });
export const sigmoidBackward = backwardOf(sigmoid, { gradOf: { dx: 'x' }, reference: (i) => ({ dx: sigmoidBackwardRef(i.x, sigmoidRef(i.x), i.dy) }), cancellation: elementwiseCancellation((y) => y * (1 + y), sigmoidRef) });
export const hardswishBackward = backwardOf(hardswish, { gradOf: { dx: 'x' }, reference: (i) => ({ dx: hardswishBackwardRef(i.x, i.dy) }), admissible: hardswishKink });
/**
 * hardswish is not differentiable at x = 3 (left slope 3/2, right 1), and PyTorch's CPU kernels
 * disagree there: the vectorised path gives dy, the scalar tail (torch 1.13, small tensors, and
 * autograd on them) 1.5·dy. Both are correct answers, so at an x that is 3 at the judged precision
 * each element is a block with the two values (the reference's first).
 */
function hardswishKink(i: Inputs, _o: unknown, u: number): Admissible | undefined {
  const r = rounder(u);
  const xd = flat(i.x);
  const g = i.dy ? flat(i.dy) : undefined;
  if (!g) return undefined;
  const blocks: AdmissibleBlock[] = [];
  xd.forEach((v, k) => {
    if (r(v) === 3 && Number.isFinite(g[k])) blocks.push({ name: 'dx', at: [k], values: [Float64Array.of(g[k]), Float64Array.of(1.5 * g[k])] });
  });
  return blocks.length ? { outputs: [], blocks, why: ambiguityReason(blocks.map((b) => `x[${b.at[0]}] = 3 is hardswish's kink, where PyTorch's vectorised kernel gives dy and its scalar one 1.5·dy`)) } : undefined;
}
export const tanhBackward = backwardOf(tanh, { gradOf: { dx: 'x' }, reference: (i) => ({ dx: tanhBackwardRef(i.x, tanhRef(i.x), i.dy) }), cancellation: elementwiseCancellation((y) => 1 + y * y, tanhRef) });
/**
 * softmax′: dx_k = y_k·(dy_k − Σ_j dy_j·y_j), a difference of terms up to |dy_k| and Σ|dy_j|·y_j:
 * a correct float implementation may be off by (n + 16)·u·y_k·(|dy_k| + Σ_j |dy_j|·y_j).
 */
export const softmaxBackward = backwardOf(softmax, {
  gradOf: { dx: 'x' },
  reference: (i, p) => ({ dx: softmaxBackwardRef(i.x, i.dy, p.dim) }),
  cancellation(i, p, u) {
    const x = i.x;
    const d = p.dim < 0 ? x.shape.length + p.dim : p.dim;
    const y = flat(softmaxRef(x, p.dim, false));
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

register(relu, leakyRelu, sigmoid, tanh, hardswish, softmax, logSoftmax, reluBackward, leakyReluBackward, sigmoidBackward, tanhBackward, hardswishBackward, softmaxBackward);
