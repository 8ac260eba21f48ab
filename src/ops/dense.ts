/** Registry entries: linear, flatten, dropout. */
import { defineOp, register } from '../registry.js';
import { bool, num } from '../params.js';
import { dropoutRef, flattenRef, linearBackwardRef, linearRef, linearShape } from '../reference/dense.js';
import { input, optional, randTensor } from './helpers.js';
import { dotBound } from '../judge/bounds.js';
import { fromData, numel } from '../tensor.js';
import { backwardOf, convOut } from './backward.js';

export const linear = defineOp({
  name: 'linear',
  family: 'dense',
  summary: 'fully connected layer y = x·Wᵀ + b',
  inputs: [input('x', '[N, in] (or [*, in])'), input('weight', '[out, in]', [2]), optional('bias', '[out]', [1])],
  params: [],
  outputs: [{ name: 'y', doc: '[N, out]' }],
  reference: (i) => ({ y: linearRef(i.x, i.weight, i.bias) }),
  validate: (i) => linearShape(i.x, i.weight, i.bias),
  outputShapes: (i) => ({ y: [...i.x.shape.slice(0, -1), i.weight.shape[0]] }),
  errorBound(i, p, o, u) {
    return dotBound(this, i, p, o, u, i.weight.shape[1]);
  },
  generate(rng) {
    const [N, I, O] = [rng.int(1, 3), rng.int(1, 6), rng.int(1, 4)];
    const inputs = { x: randTensor(rng, [N, I]), weight: randTensor(rng, [O, I], 2), ...(rng.next() < 0.7 ? { bias: randTensor(rng, [O], 2) } : {}) };
    return { inputs, params: {} };
  },
});

export const flatten = defineOp({
  name: 'flatten',
  family: 'dense',
  summary: 'merge dims startDim..endDim into one',
  inputs: [input('x', 'any shape')],
  params: [
    { name: 'startDim', schema: { type: 'integer' }, default: 1, doc: 'first dim to merge (negative counts from the end)' },
    { name: 'endDim', schema: { type: 'integer' }, default: -1, doc: 'last dim to merge (inclusive)' },
  ],
  outputs: [{ name: 'y', doc: 'same values, merged shape' }],
  options: (p): { startDim: number; endDim: number } => ({ startDim: num(p, 'startDim'), endDim: num(p, 'endDim') }),
  reference: (i, p) => ({ y: flattenRef(i.x, p.startDim, p.endDim) }),
  ulps: 0,
  generate: (rng) => ({ inputs: { x: randTensor(rng, [rng.int(1, 2), rng.int(1, 3), rng.int(1, 3), rng.int(1, 3)]) }, params: { startDim: rng.int(0, 1), endDim: -1 } }),
});

export const dropout = defineOp({
  name: 'dropout',
  family: 'dense',
  summary: 'inverted dropout with an explicit mask (identity in inference)',
  inputs: [input('x', 'any shape'), optional('mask', '0/1, shape of x (needed in training mode)')],
  params: [
    { name: 'p', schema: { type: 'number', minimum: 0, maximum: 1, title: 'a probability in [0, 1]' }, default: 0.5, doc: 'drop probability' },
    { name: 'training', schema: { type: 'boolean' }, default: false, doc: 'apply the mask (true) or pass x through (false)' },
  ],
  outputs: [{ name: 'y', doc: 'x in inference; x·mask/(1−p) in training' }],
  options: (p): { p: number; training: boolean } => ({ p: num(p, 'p'), training: bool(p, 'training') }),
  reference: (i, o) => ({ y: dropoutRef(i.x, i.mask, o.p, o.training) }),
  ulps: 1,
  generate(rng) {
    const shape = [rng.int(1, 2), rng.int(1, 4)];
    const mask = new Float64Array(numel(shape)).map(() => (rng.next() < 0.5 ? 1 : 0));
    return { inputs: { x: randTensor(rng, shape), mask: fromData(mask, shape) }, params: { p: rng.pick([0.25, 0.5]), training: rng.next() < 0.7 } };
  },
});

export const linearBackward = backwardOf(linear, {
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference: (i) => convOut(linearBackwardRef(i.x, i.weight, i.dy)),
});

register(linear, flatten, dropout, linearBackward);
