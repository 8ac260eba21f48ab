/** Registry entries: max/avg/sum/Lp/adaptive/global pooling. */
import { type Inputs, defineOp, type OpDef, type Params, register } from '../registry.js';
import { type AvgOptions, adaptiveAvgPool2dBackwardRef, adaptivePool2dRef, avgPool2dBackwardRef, avgPool2dRef, lpPool2dRef, maxPool2dBackwardRef, maxPool2dRef, type PoolGeometry, poolShape, sumPool2dRef } from '../reference/pooling.js';
import { chargeOutput } from '../validate.js';
import { bool, dims, intOrPair, intOrSingle, num, optNum, paddingForm, type PaddingForm, windowPadding1dSchema, windowPadding2dSchema } from '../params.js';
import { as1d, as2d, lift1d, resolvePadding } from '../geometry.js';
import { input, randTensor } from './helpers.js';
import { dotBound, relativeBound } from '../judge/bounds.js';
import { type Arr, fromData } from '../tensor.js';
import { boundaryAlternatives } from './helpers.js';
import { maxPoolBoundaries } from '../reference/boundaries.js';
import type { Rng } from '../rng.js';
import { backwardOf } from './backward.js';

/**
 * Kernel, stride (default: the kernel), padding, dilation, ceil mode of a 1-D or 2-D pool, as the
 * 2-D geometry of the kernel that runs it (a 1-D pool lifted: lift1d). `input` (x's spatial size)
 * is needed by the SAME_UPPER / SAME_LOWER padding forms.
 */
export function poolGeometry(p: Params, rank: 1 | 2, input?: readonly number[]): PoolGeometry {
  return poolGeometryOf(poolOptions(p, rank), input);
}

/** A window pool's params resolved once for `rank` spatial dims (stride defaulting to the kernel; the padding as given). */
export interface PoolOptions {
  rank: 1 | 2;
  kernel: number[];
  stride: number[];
  dilation: number[];
  padding: PaddingForm;
  ceilMode: boolean;
}
export function poolOptions(p: Params, rank: 1 | 2): PoolOptions {
  const kernel = dims(p, 'kernelSize', rank);
  return {
    rank,
    kernel,
    stride: p.stride === undefined || p.stride === null ? kernel.slice() : dims(p, 'stride', rank),
    dilation: p.dilation === undefined ? new Array<number>(rank).fill(1) : dims(p, 'dilation', rank),
    padding: p.padding === undefined ? 0 : paddingForm(p, 'padding'),
    ceilMode: p.ceilMode === undefined ? false : bool(p, 'ceilMode'),
  };
}

/** The 2-D geometry of a pool from its options (a 1-D pool lifted: lift1d); `input` as for poolGeometry. */
export function poolGeometryOf(o: PoolOptions, input?: readonly number[]): PoolGeometry {
  const kernel = o.kernel.slice();
  const stride = o.stride.slice();
  const dilation = o.dilation.slice();
  const pads = resolvePadding(o.padding, o.rank, kernel, dilation, stride, '/params/padding', input);
  const g = { kernel, stride, dilation, pads, ceilMode: o.ceilMode };
  return o.rank === 2 ? g : lift1d(g);
}

/** avgPool's divisor params resolved once, typed (the reference, its backward and both fast backends take this). */
export const avgOptions = (p: Params): AvgOptions => ({ countIncludePad: bool(p, 'countIncludePad'), divisorOverride: optNum(p, 'divisorOverride') });

export interface MaxPoolOptions extends PoolOptions {
  returnIndices: boolean;
}
export interface AvgPoolOptions extends PoolOptions, AvgOptions {}
export interface LpPoolOptions extends PoolOptions {
  normType: number;
}

/** A window pool's outputs [N, C, Ho, Wo] ([N, C, Lo] in 1-D), `names` all of that shape. */
function poolOutputShapes<O extends PoolOptions>(rank: 1 | 2, names: (p: O) => string[] = () => ['y']) {
  return (i: Inputs, p: O): Record<string, number[]> => {
    const x = viewFor(i.x, rank);
    const [Ho, Wo] = poolShape(x.shape[2], x.shape[3], poolGeometryOf(p, i.x.shape.slice(2)));
    const shape = [x.shape[0], x.shape[1], ...(rank === 2 ? [Ho, Wo] : [Wo])];
    return Object.fromEntries(names(p).map((n) => [n, shape.slice()]));
  };
}

/** A window pool: the padding rule and output size (poolShape), the output and its work in the budget. */
function validatePool<O extends PoolOptions>(rank: 1 | 2) {
  return (i: Inputs, p: O): void => {
    const x = viewFor(i.x, rank);
    const g = poolGeometryOf(p, i.x.shape.slice(2));
    const [Ho, Wo] = poolShape(x.shape[2], x.shape[3], g);
    const path = [...g.pads.begin, ...g.pads.end].some((v) => v > 0) ? '/params/padding' : '/inputs/x/shape';
    chargeOutput([x.shape[0], x.shape[1], Ho, Wo], g.kernel[0] * g.kernel[1], 'the pooled output', path);
  };
}

/** Runs a 2-D pooling function on 1-D input viewed as [N, C, 1, L]. */
const viewFor = (x: Arr, rank: 1 | 2): Arr => (rank === 1 ? as2d(x) : x);
const back = (y: Arr, rank: 1 | 2): Arr => (rank === 1 ? as1d(y) : y);

const kernelParam = (rank: 1 | 2) => ({ name: 'kernelSize', schema: rank === 2 ? intOrPair(1) : intOrSingle(1), doc: 'window size (required)' });
const strideParam = (rank: 1 | 2) => ({ name: 'stride', schema: rank === 2 ? intOrPair(1) : intOrSingle(1), optional: true, doc: 'step (default: kernelSize)' });
const paddingParam = (rank: 1 | 2) => ({
  name: 'padding',
  schema: rank === 2 ? windowPadding2dSchema : windowPadding1dSchema,
  default: 0,
  doc:
    rank === 2
      ? 'int, [ph, pw], [top, bottom, left, right], "SAME_UPPER" or "SAME_LOWER" (ONNX auto_pad, any stride); at most ⌊kernelSize/2⌋ per axis, as PyTorch (dilation not counted)'
      : 'int, [begin, end], "SAME_UPPER" or "SAME_LOWER"',
});
const ceilParam = { name: 'ceilMode', schema: { type: 'boolean' }, default: false, doc: 'round the output size up (the last window must start inside the input or the left padding)' };

function genPool(rng: Rng, rank: 1 | 2, dilation: boolean): { inputs: Inputs; params: Params } {
  const k = rank === 2 ? [rng.int(1, 3), rng.int(1, 3)] : [rng.int(1, 3)];
  const d = dilation ? k.map(() => rng.int(1, 2)) : k.map(() => 1);
  const eff = k.map((kk, i) => d[i] * (kk - 1) + 1);
  const pad = k.map((kk) => rng.int(0, Math.floor(kk / 2)));
  const stride = k.map(() => rng.int(1, 3));
  const spatial = eff.map((e) => e + rng.int(0, 4));
  const params: Params = { kernelSize: k, stride, padding: rank === 2 ? [pad[0], pad[0], pad[1], pad[1]] : [pad[0], pad[0]], ceilMode: rng.next() < 0.4 };
  if (dilation) params.dilation = d;
  return { inputs: { x: randTensor(rng, [rng.int(1, 2), rng.int(1, 2), ...spatial]) }, params };
}

const maxPool = (rank: 1 | 2) => defineOp({
  name: `maxPool${rank}d`,
  family: 'pooling',
  summary: `${rank}-D max pooling (padding never read, NaN propagates, first max wins ties)`,
  inputs: [input('x', rank === 2 ? '[N, C, H, W]' : '[N, C, L]', [rank + 2])],
  params: [
    kernelParam(rank),
    strideParam(rank),
    paddingParam(rank),
    { name: 'dilation', schema: rank === 2 ? intOrPair(1) : intOrSingle(1), default: 1, doc: 'spacing between window taps' },
    ceilParam,
    { name: 'returnIndices', schema: { type: 'boolean' }, default: false, doc: 'also return the argmax indices (h·W + w within each plane)' },
  ],
  outputs: [
    { name: 'y', doc: 'pooled values' },
    { name: 'indices', dtype: 'int64', conditional: true, doc: 'flat index within each (n, c) plane, with returnIndices' },
  ],
  options: (p): MaxPoolOptions => ({ ...poolOptions(p, rank), returnIndices: bool(p, 'returnIndices') }),
  reference(i, p): Record<string, Arr> {
    const r = maxPool2dRef(viewFor(i.x, rank), poolGeometryOf(p, i.x.shape.slice(2)));
    return p.returnIndices ? { y: back(r.y, rank), indices: back(r.indices, rank) } : { y: back(r.y, rank) };
  },
  validate: validatePool<MaxPoolOptions>(rank),
  outputShapes: poolOutputShapes<MaxPoolOptions>(rank, (p) => (p.returnIndices ? ['y', 'indices'] : ['y'])),
  ulps: 0,
  admissible: (i, p, u) => (p.returnIndices ? boundaryAlternatives(maxPoolBoundaries(viewFor(i.x, rank), poolGeometryOf(p), u)) : undefined),
  generate: (rng) => {
    const g = genPool(rng, rank, true);
    g.params.returnIndices = rng.next() < 0.5;
    return g;
  },
});

const avgPool = (rank: 1 | 2) => defineOp({
  name: `avgPool${rank}d`,
  family: 'pooling',
  summary: `${rank}-D average pooling (countIncludePad, divisorOverride, ceilMode as PyTorch)`,
  inputs: [input('x', rank === 2 ? '[N, C, H, W]' : '[N, C, L]', [rank + 2])],
  params: [
    kernelParam(rank),
    strideParam(rank),
    paddingParam(rank),
    ceilParam,
    { name: 'countIncludePad', schema: { type: 'boolean' }, default: true, doc: 'divide by the window clipped to the padded input (true) or by its valid cells' },
    { name: 'divisorOverride', schema: { type: 'integer', minimum: 1 }, optional: true, doc: 'divide by this instead' },
  ],
  outputs: [{ name: 'y', doc: 'pooled values' }],
  options: (p): AvgPoolOptions => ({ ...poolOptions(p, rank), ...avgOptions(p) }),
  reference: (i, p) => ({
    y: back(avgPool2dRef(viewFor(i.x, rank), poolGeometryOf(p, i.x.shape.slice(2)), p), rank),
  }),
  validate: validatePool<AvgPoolOptions>(rank),
  outputShapes: poolOutputShapes<AvgPoolOptions>(rank),
  errorBound(i, o, out, u, p) {
    return dotBound(this, i, p, out, u, o.kernel.reduce((a, b) => a * b, 1) + 1);
  },
  generate: (rng) => {
    const g = genPool(rng, rank, false);
    g.params.countIncludePad = rng.next() < 0.5;
    if (rng.next() < 0.15) g.params.divisorOverride = rng.int(1, 5);
    return g;
  },
});

export const sumPool2d = defineOp({
  name: 'sumPool2d',
  family: 'pooling',
  summary: 'sum over each window (zero padding)',
  inputs: [input('x', '[N, C, H, W]', [4])],
  params: [kernelParam(2), strideParam(2), paddingParam(2), ceilParam],
  outputs: [{ name: 'y', doc: 'window sums' }],
  options: (p) => poolOptions(p, 2),
  reference: (i, p) => ({ y: sumPool2dRef(i.x, poolGeometryOf(p, i.x.shape.slice(2))) }),
  validate: validatePool(2),
  errorBound(i, o, out, u, p) {
    return dotBound(this, i, p, out, u, o.kernel.reduce((a, b) => a * b, 1));
  },
  generate: (rng) => genPool(rng, 2, false),
});

export const lpPool2d = defineOp({
  name: 'lpPool2d',
  family: 'pooling',
  summary: 'power-average pooling (Σ x^p)^(1/p), PyTorch’s definition: no abs, no padding',
  inputs: [input('x', '[N, C, H, W]', [4])],
  params: [{ name: 'normType', schema: { type: 'number', exclusiveMinimum: 0, title: 'a positive number' }, doc: 'p (required)' }, kernelParam(2), strideParam(2), ceilParam],
  outputs: [{ name: 'y', doc: 'pooled values' }],
  // no padding param: never padded (poolOptions gives padding 0)
  options: (p): LpPoolOptions => ({ ...poolOptions(p, 2), normType: num(p, 'normType') }),
  reference: (i, p) => ({ y: lpPool2dRef(i.x, p.normType, poolGeometryOf(p)) }),
  validate: validatePool<LpPoolOptions>(2),
  errorBound(i, p, o, u) {
    const k = p.kernel;
    return relativeBound(o, 4 * (k[0] * k[1] + 8), u);
  },
  generate: (rng) => {
    const g = genPool(rng, 2, false);
    delete g.params.padding;
    g.inputs.x = fromData(g.inputs.x.data.map(Math.abs), g.inputs.x.shape);
    return { inputs: g.inputs, params: { ...g.params, normType: rng.pick([1, 2, 3]) } };
  },
});

/** adaptive pooling's output size resolved once. */
export interface AdaptiveOptions {
  h: number;
  w: number;
}
const adaptiveOptions = (p: Params): AdaptiveOptions => {
  const [h, w] = dims(p, 'outputSize', 2);
  return { h, w };
};

const adaptive = (kind: 'avg' | 'max') => defineOp({
  name: kind === 'avg' ? 'adaptiveAvgPool2d' : 'adaptiveMaxPool2d',
  family: 'pooling',
  summary: `adaptive ${kind} pooling to a fixed output size (bins ⌊o·in/out⌋ … ⌈(o+1)·in/out⌉)`,
  inputs: [input('x', '[N, C, H, W]', [4])],
  params: [{ name: 'outputSize', schema: intOrPair(1), doc: 'output [h, w] (required)' }],
  outputs: [{ name: 'y', doc: '[N, C, h, w]' }],
  options: adaptiveOptions,
  reference: (i, { h, w }) => ({ y: adaptivePool2dRef(i.x, h, w, kind).y }),
  validate(i, { h, w }) {
    // each bin holds at most ⌈in/out⌉ + 1 cells a side
    const [N, C, H, W] = i.x.shape;
    chargeOutput([N, C, h, w], (Math.ceil(H / h) + 1) * (Math.ceil(W / w) + 1), 'the pooled output', '/params/outputSize');
  },
  outputShapes: (i, { h, w }) => ({ y: [i.x.shape[0], i.x.shape[1], h, w] }),
  ...(kind === 'avg'
    ? {
        errorBound(this: OpDef, i: Inputs, { h, w }: AdaptiveOptions, o: Record<string, Arr>, u: number, p: Params) {
          return dotBound(this, i, p, o, u, (Math.ceil(i.x.shape[2] / h) + 1) * (Math.ceil(i.x.shape[3] / w) + 1) + 1);
        },
      }
    : { ulps: 0 }),
  generate: (rng) => ({ inputs: { x: randTensor(rng, [1, rng.int(1, 2), rng.int(1, 7), rng.int(1, 7)]) }, params: { outputSize: [rng.int(1, 4), rng.int(1, 4)] } }),
});

const globalPool = (kind: 'avg' | 'max') => defineOp({
  name: kind === 'avg' ? 'globalAvgPool2d' : 'globalMaxPool2d',
  family: 'pooling',
  summary: `${kind === 'avg' ? 'mean' : 'max'} over each whole (n, c) plane`,
  inputs: [input('x', '[N, C, H, W]', [4])],
  params: [],
  outputs: [{ name: 'y', doc: '[N, C, 1, 1]' }],
  reference: (i) => ({ y: adaptivePool2dRef(i.x, 1, 1, kind).y }),
  ...(kind === 'avg'
    ? {
        errorBound(this: OpDef, i: Inputs, _o: Params, o: Record<string, Arr>, u: number, p: Params) {
          return dotBound(this, i, p, o, u, i.x.shape[2] * i.x.shape[3] + 1);
        },
      }
    : { ulps: 0 }),
  generate: (rng) => ({ inputs: { x: randTensor(rng, [rng.int(1, 2), rng.int(1, 3), rng.int(1, 5), rng.int(1, 5)]) }, params: {} }),
});

export const maxPool1d = maxPool(1);
export const maxPool2d = maxPool(2);
export const avgPool1d = avgPool(1);
export const avgPool2d = avgPool(2);
export const adaptiveAvgPool2d = adaptive('avg');
export const adaptiveMaxPool2d = adaptive('max');
export const globalAvgPool2d = globalPool('avg');
export const globalMaxPool2d = globalPool('max');

export const maxPool2dBackward = backwardOf(maxPool2d, {
  gradOf: { dx: 'x' },
  reference: (i, p) => ({ dx: maxPool2dBackwardRef(i.x, i.dy, poolGeometryOf(p, i.x.shape.slice(2))) }),
});

export const avgPool2dBackward = backwardOf(avgPool2d, {
  gradOf: { dx: 'x' },
  reference: (i, p) => ({
    dx: avgPool2dBackwardRef(i.x, i.dy, poolGeometryOf(p, i.x.shape.slice(2)), p),
  }),
});

export const adaptiveAvgPool2dBackward = backwardOf(adaptiveAvgPool2d, {
  gradOf: { dx: 'x' },
  reference: (i, { h, w }) => ({ dx: adaptiveAvgPool2dBackwardRef(i.x, i.dy, h, w) }),
});

register(maxPool1d, maxPool2d, avgPool1d, avgPool2d, sumPool2d, lpPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d, globalAvgPool2d, globalMaxPool2d, maxPool2dBackward, avgPool2dBackward, adaptiveAvgPool2dBackward);
