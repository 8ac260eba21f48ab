/** Registry entries: relu, leakyRelu, sigmoid, tanh, softmax, logSoftmax. */
import { type OpDef, register } from '../registry.js';
import { leakyReluBackwardRef, leakyReluRef, reluBackwardRef, reluRef, sigmoidBackwardRef, sigmoidRef, softmaxBackwardRef, softmaxRef, tanhBackwardRef, tanhRef } from '../reference/activation.js';
import { input, randTensor } from './helpers.js';
import { relativeBound } from '../judge/bounds.js';
import { flat, resolveDim } from '../reference/common.js';
import { fromData } from '../tensor.js';
import type { Rng } from '../rng.js';
import { backwardOf } from './backward.js';

const genX = (rng: Rng) => ({ inputs: { x: randTensor(rng, [rng.int(1, 2), rng.int(1, 5)], 6) }, params: {} });

const elementwise = (name: string, summary: string, ref: OpDef['reference'], ulps: number, params: OpDef['params'] = []): OpDef => ({
  name,
  family: 'activation',
  summary,
  inputs: [input('x', 'any shape')],
  params,
  outputs: [{ name: 'y', doc: 'shape of x' }],
  reference: ref,
  ulps,
  generate: genX,
});

export const relu = elementwise('relu', 'max(0, x)', (i) => ({ y: reluRef(i.x) }), 0);
export const leakyRelu = elementwise('leakyRelu', 'x if x ≥ 0 else negativeSlope·x', (i, p) => ({ y: leakyReluRef(i.x, p.negativeSlope as number) }), 1, [
  { name: 'negativeSlope', schema: { type: 'number' }, default: 0.01, doc: 'slope for x < 0 (PyTorch 0.01; Keras 0.3)' },
]);
export const sigmoid = elementwise('sigmoid', '1 / (1 + e^−x)', (i) => ({ y: sigmoidRef(i.x) }), 4);
export const tanh = elementwise('tanh', 'hyperbolic tangent', (i) => ({ y: tanhRef(i.x) }), 4);

/**
 * Softmax error: a naive float sum of the exponentials is off by γ_size relatively, the exp and the
 * division add a few ulps. Log-softmax's error is absolute: u·(|x| + |m| + |log Σ|) + γ_size.
 */
const softmaxLike = (name: 'softmax' | 'logSoftmax', log: boolean): OpDef => ({
  name,
  family: 'activation',
  summary: log ? 'log of softmax along dim, max-shifted (no overflow at ±1000)' : 'e^(x−max) / Σ e^(x−max) along dim',
  inputs: [input('x', 'any shape')],
  params: [{ name: 'dim', schema: { type: 'integer' }, default: 1, doc: 'axis to normalise (negative counts from the end)' }],
  outputs: [{ name: 'y', doc: 'shape of x' }],
  reference: (i, p) => ({ y: softmaxRef(i.x, p.dim as number, log) }),
  validate: (i, p) => void resolveDim(p.dim as number, i.x.shape.length, '/params/dim'),
  errorBound(i, p, o, u) {
    const rank = i.x.shape.length;
    const d = (p.dim as number) < 0 ? (p.dim as number) + rank : (p.dim as number);
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
export const leakyReluBackward = backwardOf(leakyRelu, { gradOf: { dx: 'x' }, reference: (i, p) => ({ dx: leakyReluBackwardRef(i.x, i.dy, p.negativeSlope as number) }) });
export const sigmoidBackward = backwardOf(sigmoid, { gradOf: { dx: 'x' }, reference: (i) => ({ dx: sigmoidBackwardRef(i.x, sigmoidRef(i.x), i.dy) }) });
export const tanhBackward = backwardOf(tanh, { gradOf: { dx: 'x' }, reference: (i) => ({ dx: tanhBackwardRef(i.x, tanhRef(i.x), i.dy) }) });
export const softmaxBackward = backwardOf(softmax, { gradOf: { dx: 'x' }, reference: (i, p) => ({ dx: softmaxBackwardRef(i.x, i.dy, p.dim as number) }) });

register(relu, leakyRelu, sigmoid, tanh, softmax, logSoftmax, reluBackward, leakyReluBackward, sigmoidBackward, tanhBackward, softmaxBackward);
