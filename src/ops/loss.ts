/** Registry entries: crossEntropy, mseLoss. */
import { defineOp, type Params, register } from '../registry.js';
import { checkCrossEntropyTarget, crossEntropyBackwardRef, crossEntropyRef, mseLossRef, type Reduction } from '../reference/loss.js';
import { softmaxRef } from '../reference/activation.js';
import { num, oneOf, reductionSchema } from '../params.js';
import { input, randIndexTensor, randTensor } from './helpers.js';
import { flat } from '../reference/common.js';
import { fromData, numel } from '../tensor.js';
import { backwardOf } from './backward.js';

const reduction = { name: 'reduction', schema: reductionSchema, default: 'mean', doc: '"mean", "sum" or "none"' };

const REDUCTIONS = ['none', 'mean', 'sum'] as const satisfies readonly Reduction[];

/** crossEntropy's params resolved once. */
export interface CrossEntropyOptions {
  reduction: Reduction;
  labelSmoothing: number;
  ignoreIndex: number;
}
export const crossEntropyOptions = (p: Params): CrossEntropyOptions => ({ reduction: oneOf(p, 'reduction', REDUCTIONS), labelSmoothing: num(p, 'labelSmoothing'), ignoreIndex: num(p, 'ignoreIndex') });

export const crossEntropy = defineOp({
  name: 'crossEntropy',
  options: crossEntropyOptions,
  family: 'loss',
  summary: 'cross-entropy of logits against class indices or probabilities, with label smoothing',
  inputs: [input('logits', '[N, C]', [2]), input('target', 'int64 class indices [N], or probabilities [N, C]', [1, 2], { kind: 'floatOrIndex' })],
  params: [
    reduction,
    { name: 'labelSmoothing', schema: { type: 'number', minimum: 0, maximum: 1, title: 'a number in [0, 1]' }, default: 0, doc: 'ε: target mixed with the uniform distribution' },
    { name: 'ignoreIndex', schema: { type: 'integer' }, default: -100, doc: 'class index whose samples are ignored (PyTorch −100)' },
  ],
  outputs: [{ name: 'loss', doc: 'scalar [] for mean/sum, [N] for none' }],
  reference: (i, p) => ({
    loss: crossEntropyRef(i.logits, i.target, p.reduction, p.labelSmoothing, p.ignoreIndex),
  }),
  validate: (i, p) => checkCrossEntropyTarget(i.logits, i.target, p.ignoreIndex),
  outputShapes: (i, p) => ({ loss: p.reduction === 'none' ? [i.logits.shape[0]] : [] }),
  errorBound(i, p, o, u) {
    const [N, C] = i.logits.shape;
    let m = 0;
    for (const v of flat(i.logits)) m = Math.max(m, Math.abs(v));
    const y = flat(o.loss);
    const out = y.map((v) => (N * C + 8) * u * (Math.abs(v) + 2 * m + 1));
    return { loss: fromData(out, o.loss.shape) };
  },
  generate(rng) {
    const [N, C] = [rng.int(1, 4), rng.int(2, 5)];
    const probs = rng.next() < 0.3;
    let target;
    if (probs) {
      const t = randTensor(rng, [N, C], 1).data.map(Math.abs);
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += t[n * C + c];
        for (let c = 0; c < C; c++) t[n * C + c] = s === 0 ? 1 / C : t[n * C + c] / s;
      }
      target = fromData(t, [N, C]);
    } else target = randIndexTensor(rng, [N], 0, C - 1);
    return {
      inputs: { logits: randTensor(rng, [N, C], 4), target },
      params: { reduction: rng.pick(['mean', 'sum', 'none']), labelSmoothing: rng.pick([0, 0, 0.1]) },
    };
  },
});

export const mseLoss = defineOp({
  name: 'mseLoss',
  options: (p): { reduction: Reduction } => ({ reduction: oneOf(p, 'reduction', REDUCTIONS) }),
  family: 'loss',
  summary: 'mean squared error',
  inputs: [input('input', 'any shape'), input('target', 'shape of input')],
  params: [reduction],
  outputs: [{ name: 'loss', doc: 'scalar [] for mean/sum, shape of input for none' }],
  reference: (i, p) => ({ loss: mseLossRef(i.input, i.target, p.reduction) }),
  errorBound(i, p, o, u) {
    // (a−b) rounds relative to |a|+|b|; squaring doubles it; summing n terms adds γₙ.
    const a = flat(i.input);
    const b = flat(i.target);
    const per = a.map((v, k) => {
      const d = Math.abs(v - b[k]);
      return u * (2 * (Math.abs(v) + Math.abs(b[k])) * d + 2 * d * d) + 1e-300;
    });
    if (p.reduction === 'none') return { loss: fromData(per, o.loss.shape) };
    let s = 0;
    for (const v of per) s += v;
    const n = numel(i.input.shape);
    const scale = p.reduction === 'mean' ? 1 / n : 1;
    return { loss: fromData([s * scale + (n + 2) * u * Math.abs(flat(o.loss)[0])], []) };
  },
  generate(rng) {
    const shape = [rng.int(1, 3), rng.int(1, 4)];
    return { inputs: { input: randTensor(rng, shape), target: randTensor(rng, shape) }, params: { reduction: rng.pick(['mean', 'sum', 'none']) } };
  },
});

export const crossEntropyBackward = backwardOf(crossEntropy, {
  dyOptional: true,
  gradOf: { dlogits: 'logits' },
  reference: (i, p) => ({
    dlogits: crossEntropyBackwardRef(i.logits, i.target, i.dy, p.reduction, p.labelSmoothing, p.ignoreIndex),
  }),
  /**
   * dlogits = s·(p·Σt′ − t′): where the softmax p is close to the smoothed target t′ the result is
   * far below its terms, and a correct implementation is off by (C + 16)·u·|s|·(p·Σt′ + t′).
   */
  cancellation(i, p, u) {
    const [N, C] = i.logits.shape;
    const probs = flat(softmaxRef(i.logits, 1, false));
    const td = flat(i.target);
    const byIndex = i.target.shape.length === 1;
    const eps = p.labelSmoothing;
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

register(crossEntropy, mseLoss, crossEntropyBackward);
