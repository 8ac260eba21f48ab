/** Registry entries: convTranspose1d, convTranspose2d. */
import { type Inputs, defineOp, type Params, register } from '../registry.js';
import { convTranspose1dRef, convTranspose2dBackwardRef, convTranspose2dRef, type TransposedGeometry, transposedShape } from '../reference/transposed.js';
import { as2d, lift1d } from '../geometry.js';
import { chargeOutput } from '../validate.js';
import { dims, intOrPair, intOrSingle, intSchema, num, paddingForm, poolPadding1dSchema, poolPadding2dSchema, resolvePadding, type PaddingForm } from '../params.js';
import { input, optional, randTensor } from './helpers.js';
import { dotBound } from '../judge/bounds.js';
import type { Rng } from '../rng.js';
import { backwardOf, convOut } from './backward.js';

/** A transposed conv's params resolved once for `rank` spatial dims (the padding as given). */
export interface TransposedOptions {
  stride: number[];
  dilation: number[];
  padding: PaddingForm;
  outputPadding: number[];
  groups: number;
}
export const transposedOptions = (p: Params, rank: number): TransposedOptions => ({
  stride: dims(p, 'stride', rank),
  dilation: dims(p, 'dilation', rank),
  padding: paddingForm(p, 'padding'),
  outputPadding: dims(p, 'outputPadding', rank),
  groups: num(p, 'groups'),
});

/** The geometry of a transposed conv from its options and the kernel's spatial size. */
export function transposedGeometryOf(o: TransposedOptions, kernel: number[]): TransposedGeometry {
  const dilation = o.dilation.slice();
  return { stride: o.stride.slice(), dilation, pads: resolvePadding(o.padding, dilation.length, kernel, dilation, null), outputPadding: o.outputPadding.slice(), groups: o.groups };
}

/** transposedGeometryOf from raw params. */
export function transposedGeometry(p: Params, rank: number, kernel: number[]): TransposedGeometry {
  return transposedGeometryOf(transposedOptions(p, rank), kernel);
}

const params = (rank: 1 | 2) => {
  const pair = rank === 2 ? intOrPair : intOrSingle;
  return [
    { name: 'stride', schema: pair(1), default: 1, doc: 'upsampling step' },
    { name: 'padding', schema: rank === 2 ? poolPadding2dSchema : poolPadding1dSchema, default: 0, doc: 'cropped from each end of the output (int, pair, or per side)' },
    { name: 'outputPadding', schema: pair(0), default: 0, doc: 'extra rows/cols at the high end; < stride or < dilation' },
    { name: 'dilation', schema: pair(1), default: 1, doc: 'spacing between kernel taps' },
    { name: 'groups', schema: intSchema(1), default: 1, doc: 'channel groups' },
  ];
};

function genTransposed(rng: Rng, rank: 1 | 2): { inputs: Inputs; params: Params } {
  const G = rng.pick([1, 1, 2]);
  const C = G * rng.int(1, 2);
  const Og = rng.int(1, 2);
  const k = Array.from({ length: rank }, () => rng.int(1, 3));
  const stride = k.map(() => rng.int(1, 3));
  const dilation = k.map(() => rng.int(1, 2));
  const outputPadding = stride.map((s, i) => rng.int(0, Math.max(s, dilation[i]) - 1));
  const padding = k.map((kk, i) => rng.int(0, Math.floor((dilation[i] * (kk - 1)) / 2)));
  const spatial = k.map(() => rng.int(1, 4));
  const inputs: Inputs = { x: randTensor(rng, [rng.int(1, 2), C, ...spatial]), weight: randTensor(rng, [C, Og, ...k], 2) };
  if (rng.next() < 0.6) inputs.bias = randTensor(rng, [Og * G], 2);
  return { inputs, params: { stride, padding, outputPadding, dilation, groups: G } };
}

/** The output spatial size as the lifted 2-D [Ho, Wo] (transposedShape: checks the shapes against each other). */
function transposedOutSpatial(i: Inputs, p: TransposedOptions, rank: 1 | 2) {
  const g = transposedGeometryOf(p, i.weight.shape.slice(2));
  const x = rank === 1 ? as2d(i.x) : i.x;
  const w = rank === 1 ? as2d(i.weight) : i.weight;
  return { g, x, w, out: transposedShape(x, w, i.bias, rank === 2 ? g : lift1d(g)) };
}

const transposed = (rank: 1 | 2) => defineOp({
  name: `convTranspose${rank}d`,
  family: 'convolution',
  summary: `${rank}-D transposed convolution (the adjoint of conv${rank}d), scatter form`,
  inputs: [
    input('x', rank === 2 ? '[N, C, H, W]' : '[N, C, L]', [rank + 2]),
    input('weight', rank === 2 ? '[C, O/groups, kh, kw]' : '[C, O/groups, k]', [rank + 2]),
    optional('bias', '[O]', [1]),
  ],
  params: params(rank),
  outputs: [{ name: 'y', doc: 'out = (in−1)·s − P⁻ − P⁺ + d·(k−1) + outputPadding + 1' }],
  options: (p) => transposedOptions(p, rank),
  reference(i, p) {
    const g = transposedGeometryOf(p, i.weight.shape.slice(2));
    return { y: rank === 2 ? convTranspose2dRef(i.x, i.weight, i.bias, g) : convTranspose1dRef(i.x, i.weight, i.bias, g) };
  },
  validate(i, p) {
    const { g, x, w, out: [Ho, Wo] } = transposedOutSpatial(i, p, rank);
    // the scatter form: every input cell meets every tap of its group's weights
    const O = w.shape[1] * g.groups;
    chargeOutput([x.shape[0], O, Ho, Wo], 1, `convTranspose${rank}d's output`, '/params/stride');
    chargeOutput([x.shape[0], x.shape[1], x.shape[2], x.shape[3]], w.shape[1] * w.shape[2] * w.shape[3], `convTranspose${rank}d's scatter`, '/inputs/weight/shape');
  },
  outputShapes(i, p) {
    const [Ho, Wo] = transposedOutSpatial(i, p, rank).out;
    return { y: [i.x.shape[0], i.weight.shape[1] * p.groups, ...(rank === 2 ? [Ho, Wo] : [Wo])] };
  },
  errorBound(i, _o, o, u, p) {
    return dotBound(this, i, p, o, u, i.weight.shape[0] * i.weight.shape.slice(2).reduce((a, b) => a * b, 1));
  },
  generate: (rng) => genTransposed(rng, rank),
});

export const convTranspose1d = transposed(1);
export const convTranspose2d = transposed(2);
export const convTranspose2dBackward = backwardOf(convTranspose2d, {
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference: (i, p) => convOut(convTranspose2dBackwardRef(i.x, i.weight, i.bias, i.dy, transposedGeometryOf(p, i.weight.shape.slice(2)))),
});

register(convTranspose1d, convTranspose2d, convTranspose2dBackward);
