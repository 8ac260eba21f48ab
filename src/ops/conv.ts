/** Registry entries: conv1d, conv2d, convolve. */
import { type Inputs, defineOp, type Params, register } from '../registry.js';
import { conv1dRef, conv2dBackwardRef, conv2dRef, type ConvGeometry, type ConvolveMode, convolveRef, convShape } from '../reference/conv.js';
import { bool, dims, intOrPair, intOrSingle, intSchema, num, oneOf, padding1dSchema, padding2dSchema, paddingForm, type PaddingForm } from '../params.js';
import { as1d, as2d, lift1d, resolvePadding } from '../geometry.js';
import { input, optional, randTensor } from './helpers.js';
import { dotBound } from '../judge/bounds.js';
import type { Rng } from '../rng.js';
import { chargeOutput } from '../validate.js';
import { backwardOf, convOut } from './backward.js';

/** conv1d/conv2d's output spatial size as the lifted 2-D [Ho, Wo] (convShape: checks the shapes against each other). */
function convOutSpatial(i: Inputs, p: ConvOptions, rank: 1 | 2) {
  const x = rank === 1 ? as2d(i.x) : i.x;
  const w = rank === 1 ? as2d(i.weight) : i.weight;
  const g = convGeometryOf(p, i.weight.shape.slice(2), i.x.shape.slice(2));
  return { x, w, g, out: convShape(x, w, i.bias, rank === 1 ? lift1d(g) : g) };
}

/** The output [N, O, Ho, Wo] (conv1d: [N, O, Wo]). */
const convOutputShapes = (rank: 1 | 2) => (i: Inputs, p: ConvOptions) => {
  const [Ho, Wo] = convOutSpatial(i, p, rank).out;
  return { y: [i.x.shape[0], i.weight.shape[0], ...(rank === 2 ? [Ho, Wo] : [Wo])] };
};

/** conv1d/conv2d: the shapes against each other (convShape), the output and its work in the budget. */
function validateConv(rank: 1 | 2) {
  return (i: Inputs, p: ConvOptions): void => {
    const { x, w, g, out: [Ho, Wo] } = convOutSpatial(i, p, rank);
    const path = [...g.pads.begin, ...g.pads.end].some((v) => v > 0) ? '/params/padding' : '/inputs/x/shape';
    chargeOutput([x.shape[0], w.shape[0], Ho, Wo], w.shape[1] * w.shape[2] * w.shape[3], `conv${rank}d's output`, path);
  };
}

/** A conv op's params resolved once for `rank` spatial dims (the padding as given: its pads need the kernel). */
export interface ConvOptions {
  stride: number[];
  dilation: number[];
  padding: PaddingForm;
  groups: number;
  flip: boolean;
}
export const convOptions = (p: Params, rank: number): ConvOptions => ({
  stride: dims(p, 'stride', rank),
  dilation: dims(p, 'dilation', rank),
  padding: paddingForm(p, 'padding'),
  groups: num(p, 'groups'),
  flip: bool(p, 'flip'),
});

/**
 * The geometry of a conv op from its options and the kernel's spatial size; `input` (x's spatial
 * size) is needed by the SAME_UPPER / SAME_LOWER padding forms.
 */
export function convGeometryOf(o: ConvOptions, kernel: number[], input?: readonly number[]): ConvGeometry {
  const stride = o.stride.slice();
  const dilation = o.dilation.slice();
  return { stride, dilation, pads: resolvePadding(o.padding, stride.length, kernel, dilation, stride, '/params/padding', input), groups: o.groups, flip: o.flip };
}

/** convGeometryOf from raw params (scripts and tests that hold params, not an op's options). */
export function convGeometry(params: Params, kernel: number[], rank: number, input?: readonly number[]): ConvGeometry {
  return convGeometryOf(convOptions(params, rank), kernel, input);
}

const convParams = (rank: 1 | 2) => [
  { name: 'stride', schema: rank === 2 ? intOrPair(1) : intOrSingle(1), default: 1, doc: 'step between windows (int or [sh, sw])' },
  {
    name: 'padding',
    schema: rank === 2 ? padding2dSchema : padding1dSchema,
    default: 0,
    doc:
      rank === 2
        ? 'zero padding: int, [ph, pw], [top, bottom, left, right], "valid", "same" (stride 1), "SAME_UPPER" or "SAME_LOWER" (ONNX auto_pad, any stride)'
        : 'zero padding: int, [begin, end], "valid", "same" (stride 1), "SAME_UPPER" or "SAME_LOWER"',
  },
  { name: 'dilation', schema: rank === 2 ? intOrPair(1) : intOrSingle(1), default: 1, doc: 'spacing between kernel taps' },
  { name: 'groups', schema: intSchema(1), default: 1, doc: 'channel groups (C and O divisible by groups)' },
  { name: 'flip', schema: { type: 'boolean' }, default: false, doc: 'rotate the kernel 180° (true convolution) instead of cross-correlation' },
];

function genConv(rng: Rng, rank: 1 | 2): { inputs: Inputs; params: Params } {
  const groups = rng.pick([1, 1, 2]);
  const C = groups * rng.int(1, 2);
  const O = groups * rng.int(1, 2);
  const k = rank === 2 ? [rng.int(1, 3), rng.int(1, 3)] : [rng.int(1, 3)];
  const dilation = rank === 2 ? [rng.int(1, 2), rng.int(1, 2)] : [rng.int(1, 2)];
  const useSame = rng.next() < 0.2;
  const stride = useSame ? (rank === 2 ? [1, 1] : [1]) : rank === 2 ? [rng.int(1, 2), rng.int(1, 2)] : [rng.int(1, 2)];
  const padding = useSame ? 'same' : rank === 2 ? [rng.int(0, 2), rng.int(0, 1), rng.int(0, 1), rng.int(0, 2)] : [rng.int(0, 2), rng.int(0, 1)];
  const spatial = k.map((kk, i) => dilation[i] * (kk - 1) + 1 + rng.int(0, 4));
  const N = rng.int(1, 2);
  const inputs: Inputs = {
    x: randTensor(rng, [N, C, ...spatial]),
    weight: randTensor(rng, [O, C / groups, ...k], 2),
  };
  if (rng.next() < 0.7) inputs.bias = randTensor(rng, [O], 2);
  return { inputs, params: { stride, padding, dilation, groups, flip: rng.next() < 0.2 } };
}

const convTerms = (inputs: Inputs) => inputs.weight.shape.slice(1).reduce((a, b) => a * b, 1);

export const conv2d = defineOp({
  name: 'conv2d',
  family: 'convolution',
  summary: '2-D convolution (cross-correlation; flip for true convolution), NCHW',
  inputs: [input('x', '[N, C, H, W]', [4]), input('weight', '[O, C/groups, kh, kw]', [4]), optional('bias', '[O]', [1])],
  params: convParams(2),
  outputs: [{ name: 'y', doc: '[N, O, H_out, W_out]' }],
  options: (p) => convOptions(p, 2),
  reference: (i, p) => ({ y: conv2dRef(i.x, i.weight, i.bias, convGeometryOf(p, i.weight.shape.slice(2), i.x.shape.slice(2))) }),
  validate: validateConv(2),
  outputShapes: convOutputShapes(2),
  errorBound(i, _o, o, u, p) {
    return dotBound(this, i, p, o, u, convTerms(i));
  },
  generate: (rng) => genConv(rng, 2),
});

export const conv1d = defineOp({
  name: 'conv1d',
  family: 'convolution',
  summary: '1-D convolution (cross-correlation; flip for true convolution), NCL',
  inputs: [input('x', '[N, C, L]', [3]), input('weight', '[O, C/groups, k]', [3]), optional('bias', '[O]', [1])],
  params: convParams(1),
  outputs: [{ name: 'y', doc: '[N, O, L_out]' }],
  options: (p) => convOptions(p, 1),
  reference: (i, p) => ({ y: conv1dRef(i.x, i.weight, i.bias, convGeometryOf(p, i.weight.shape.slice(2), i.x.shape.slice(2))) }),
  validate: validateConv(1),
  outputShapes: convOutputShapes(1),
  errorBound(i, _o, o, u, p) {
    return dotBound(this, i, p, o, u, convTerms(i));
  },
  generate: (rng) => genConv(rng, 1),
});

export const convolve = defineOp({
  name: 'convolve',
  family: 'convolution',
  summary: 'textbook convolution of two 1-D or 2-D signals (full / same / valid), like scipy.signal.convolve2d',
  inputs: [input('a', 'signal, 1-D or 2-D', [1, 2]), input('b', 'kernel, same rank as a', [1, 2])],
  params: [
    { name: 'mode', schema: { enum: ['full', 'same', 'valid'] }, default: 'full', doc: 'output extent' },
    { name: 'flip', schema: { type: 'boolean' }, default: true, doc: 'true: convolution; false: correlation' },
  ],
  outputs: [{ name: 'y', doc: 'full: (n+k−1)×(m+l−1); same: a’s size; valid: (n−k+1)×(m−l+1)' }],
  options: (p): { mode: ConvolveMode; flip: boolean } => ({ mode: oneOf(p, 'mode', ['full', 'same', 'valid']), flip: bool(p, 'flip') }),
  reference: (i, p) => ({ y: convolveRef(i.a, i.b, p.mode, p.flip) }),
  errorBound(i, _o, o, u, p) {
    return dotBound(this, i, p, o, u, i.b.shape.reduce((a, b) => a * b, 1));
  },
  generate(rng) {
    const two = rng.next() < 0.6;
    const a = two ? [rng.int(2, 5), rng.int(2, 5)] : [rng.int(2, 7)];
    const b = a.map((n) => rng.int(1, n));
    return { inputs: { a: randTensor(rng, a), b: randTensor(rng, b, 2) }, params: { mode: rng.pick(['full', 'same', 'valid']), flip: rng.next() < 0.7 } };
  },
});

export const conv2dBackward = backwardOf(conv2d, {
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference: (i, p) => convOut(conv2dBackwardRef(i.x, i.weight, i.bias, i.dy, convGeometryOf(p, i.weight.shape.slice(2), i.x.shape.slice(2)))),
});

export const conv1dBackward = backwardOf(conv1d, {
  gradOf: { dx: 'x', dweight: 'weight', dbias: 'bias' },
  reference(i, p) {
    const g = convGeometryOf(p, i.weight.shape.slice(2), i.x.shape.slice(2));
    const r = conv2dBackwardRef(as2d(i.x), as2d(i.weight), i.bias, as2d(i.dy), lift1d(g));
    return { dx: as1d(r.dx), dweight: as1d(r.dweight), dbias: r.dbias };
  },
});

register(conv1d, conv2d, convolve, conv1dBackward, conv2dBackward);
