/** Registry entries: maxUnpool2d, upsample2d. */
import { defineOp, type Params, register } from '../registry.js';
import type { Arr } from '../tensor.js';
import ndarray from 'ndarray';
import { flat } from '../reference/common.js';
import { checkUnpoolIndices, maxUnpool2dBackwardRef, maxUnpool2dRef, unpoolDefaultSize, upsample2dBackwardRef, upsample2dRef, upsampleSize } from '../reference/resample.js';
import { maxPool2dRef } from '../reference/pooling.js';
import { bool, intOrPair, ints, oneOf, optNumOrList, poolPadding2dSchema } from '../params.js';
import { invalidParams } from '../errors.js';
import { input, randTensor } from './helpers.js';
import { dotBound } from '../judge/bounds.js';
import { boundaryAlternatives } from './helpers.js';
import { nearestBoundaries } from '../reference/boundaries.js';
import { chargeOutput } from '../validate.js';
import { poolGeometryOf, poolOptions, type PoolOptions } from './pooling.js';
import { backwardOf } from './backward.js';

/** Output size of maxUnpool2d: the default (in − 1)·s − P⁻ − P⁺ + k, or outputSize within ±stride of it. */
export function unpoolOutSize(x: Arr, p: UnpoolOptions): [number, number] {
  const g = poolGeometryOf(p);
  const def = [0, 1].map((a) => unpoolDefaultSize(x.shape[2 + a], g.kernel[a], g.stride[a], g.pads.begin[a], g.pads.end[a]));
  if (p.outputSize === undefined) return [def[0], def[1]];
  const os = p.outputSize;
  if (os.length !== 2 && os.length !== 4) throw invalidParams('/params/outputSize', 'outputSize must be [h, w] or [N, C, h, w]');
  const out = os.slice(-2);
  for (let a = 0; a < 2; a++) {
    if (out[a] < def[a] - g.stride[a] || out[a] > def[a] + g.stride[a]) {
      throw invalidParams('/params/outputSize', `outputSize ${out[a]} must lie within ${def[a]} ± ${g.stride[a]} (the default size ± the stride)`);
    }
  }
  return [out[0], out[1]];
}

/** maxUnpool2d's params resolved once: the pool's, and outputSize if given. */
export interface UnpoolOptions extends PoolOptions {
  outputSize?: number[];
}

export const maxUnpool2d = defineOp({
  name: 'maxUnpool2d',
  options: (p): UnpoolOptions => ({ ...poolOptions(p, 2), outputSize: p.outputSize === undefined ? undefined : ints(p, 'outputSize') }),
  family: 'resampling',
  summary: 'max unpooling: put each value back where its index says, zeros elsewhere',
  inputs: [input('x', '[N, C, H, W] pooled values', [4]), input('indices', 'int64 [N, C, H, W], h·W + w within each output plane', [4], { kind: 'index' })],
  params: [
    { name: 'kernelSize', schema: intOrPair(1), doc: 'the pooling window (required)' },
    { name: 'stride', schema: intOrPair(1), optional: true, doc: 'default: kernelSize' },
    { name: 'padding', schema: poolPadding2dSchema, default: 0, doc: 'the pooling padding' },
    {
      name: 'outputSize',
      schema: { title: '[h, w] or [N, C, h, w]', type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, maxItems: 4 },
      optional: true,
      doc: 'output [h, w] (or a full shape); default (in − 1)·s − 2p + k',
    },
  ],
  outputs: [{ name: 'y', doc: '[N, C, h, w]' }],
  reference(i, p) {
    const [h, w] = unpoolOutSize(i.x, p);
    return { y: maxUnpool2dRef(i.x, i.indices, h, w) };
  },
  validate(i, p) {
    const [h, w] = unpoolOutSize(i.x, p);
    chargeOutput([i.x.shape[0], i.x.shape[1], h, w], 1, 'the unpooled output', p.outputSize === undefined ? '/params/kernelSize' : '/params/outputSize');
    checkUnpoolIndices(i.x, i.indices, h, w); // what maxUnpool2dRef checks, for the backward op and the fast backends too
  },
  outputShapes(i, p) {
    const [h, w] = unpoolOutSize(i.x, p);
    return { y: [i.x.shape[0], i.x.shape[1], h, w] };
  },
  ulps: 0,
  generate(rng) {
    const k = rng.int(1, 3);
    const x = randTensor(rng, [1, rng.int(1, 2), k * rng.int(1, 3), k * rng.int(1, 3)]);
    const pooled = maxPool2dRef(x, { kernel: [k, k], stride: [k, k], dilation: [1, 1], pads: { begin: [0, 0], end: [0, 0] }, ceilMode: false });
    return { inputs: { x: pooled.y, indices: pooled.indices }, params: { kernelSize: k } };
  },
});

/**
 * Bilinear weights come from a source coordinate c = (dst + ½)·scale − ½ (or dst·(in − 1)/(out − 1)
 * with alignCorners) that a float implementation rounds: PyTorch forms scale = 1/scaleFactor in the
 * tensor's dtype, so float32 puts c = 1 at 1.00000004 and mixes in 4·10⁻⁸ of the next pixel. The
 * coordinate is off by at most 4u·(c + 1) per axis, and the output, continuous in c, by that times
 * the largest difference of neighbouring pixels around c (the 3×3 block, since c may round across
 * an integer): that is added to the arithmetic's bound.
 */
function addCoordinateRounding(x: Arr, bound: Arr, alignCorners: boolean, u: number): Arr {
  const [N, C, H, W] = x.shape;
  const [oh, ow] = bound.shape.slice(2);
  const coord = (d: number, inn: number, out: number) => (alignCorners ? (out > 1 ? (d * (inn - 1)) / (out - 1) : 0) : Math.max(0, ((d + 0.5) * inn) / out - 0.5));
  const xd = flat(x);
  const bd = Float64Array.from(flat(bound));
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let h = 0; h < oh; h++) {
        const ch = coord(h, H, oh);
        const h0 = Math.floor(ch);
        for (let w = 0; w < ow; w++) {
          const cw = coord(w, W, ow);
          const w0 = Math.floor(cw);
          let dh = 0;
          let dw = 0;
          for (let a = Math.max(0, h0 - 1); a <= Math.min(H - 1, h0 + 1); a++)
            for (let b = Math.max(0, w0 - 1); b <= Math.min(W - 1, w0 + 1); b++) {
              const v = xd[plane + a * W + b];
              if (a < Math.min(H - 1, h0 + 1)) dh = Math.max(dh, Math.abs(xd[plane + (a + 1) * W + b] - v));
              if (b < Math.min(W - 1, w0 + 1)) dw = Math.max(dw, Math.abs(xd[plane + a * W + b + 1] - v));
            }
          const k = ((n * C + c) * oh + h) * ow + w;
          const e = 4 * u * ((ch + 1) * dh + (cw + 1) * dw);
          if (Number.isFinite(e)) bd[k] += e;
        }
      }
    }
  return ndarray(bd, bound.shape.slice());
}

/** upsample2d's params resolved once (size and scaleFactor as given: upsampleSize reads them). */
export interface UpsampleOptions {
  mode: 'nearest' | 'bilinear';
  scaleFactor?: number | number[];
  size?: number | number[];
  alignCorners: boolean;
}
export const upsampleOptions = (p: Params): UpsampleOptions => ({
  mode: oneOf(p, 'mode', ['nearest', 'bilinear']),
  scaleFactor: optNumOrList(p, 'scaleFactor'),
  size: optNumOrList(p, 'size'),
  alignCorners: bool(p, 'alignCorners'),
});

const checkUpsampleMode = (p: UpsampleOptions): void => {
  if (p.mode === 'nearest' && p.alignCorners) throw invalidParams('/params/alignCorners', 'alignCorners can only be set with mode "bilinear"');
};

export const upsample2d = defineOp({
  name: 'upsample2d',
  options: upsampleOptions,
  family: 'resampling',
  summary: 'nearest or bilinear upsampling by scaleFactor or to size (PyTorch interpolate)',
  inputs: [input('x', '[N, C, H, W]', [4])],
  params: [
    { name: 'mode', schema: { enum: ['nearest', 'bilinear'] }, default: 'nearest', doc: '"nearest" or "bilinear"' },
    { name: 'scaleFactor', schema: { title: 'a positive number or [sh, sw]', oneOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 2, maxItems: 2 }] }, optional: true, doc: 'output = ⌊in · scaleFactor⌋' },
    { name: 'size', schema: intOrPair(1), optional: true, doc: 'output [h, w] (instead of scaleFactor)' },
    { name: 'alignCorners', schema: { type: 'boolean' }, default: false, doc: 'bilinear: map corner pixel centres onto each other' },
  ],
  outputs: [{ name: 'y', doc: '[N, C, h, w]' }],
  reference(i, p) {
    checkUpsampleMode(p);
    const { out, scale } = upsampleSize(i.x.shape[2], i.x.shape[3], p.size, p.scaleFactor);
    return { y: upsample2dRef(i.x, out[0], out[1], p.mode, p.alignCorners, scale) };
  },
  admissible(i, p, u) {
    if (p.mode !== 'nearest') return undefined; // bilinear: no discontinuous decision (the weights are continuous in the source coordinate)
    const { out, scale } = upsampleSize(i.x.shape[2], i.x.shape[3], p.size, p.scaleFactor);
    return boundaryAlternatives(nearestBoundaries(i.x, out[0], out[1], scale, u));
  },
  validate(i, p) {
    const { out } = upsampleSize(i.x.shape[2], i.x.shape[3], p.size, p.scaleFactor);
    chargeOutput([i.x.shape[0], i.x.shape[1], out[0], out[1]], 4, 'the upsampled output', p.size === undefined ? '/params/scaleFactor' : '/params/size');
    checkUpsampleMode(p);
  },
  outputShapes(i, p) {
    const { out } = upsampleSize(i.x.shape[2], i.x.shape[3], p.size, p.scaleFactor);
    return { y: [i.x.shape[0], i.x.shape[1], out[0], out[1]] };
  },
  errorBound(i, opts, o, u, p) {
    const b = dotBound(this, i, p, o, u, 8);
    if (opts.mode !== 'bilinear') return b;
    return { y: addCoordinateRounding(i.x, b.y, opts.alignCorners, u) };
  },
  generate(rng) {
    const bil = rng.next() < 0.6;
    const params: Record<string, unknown> = { mode: bil ? 'bilinear' : 'nearest' };
    if (rng.next() < 0.5) params.scaleFactor = rng.pick([2, 3, 1.5]);
    else params.size = [rng.int(1, 6), rng.int(1, 6)];
    if (bil) params.alignCorners = rng.next() < 0.5;
    return { inputs: { x: randTensor(rng, [1, rng.int(1, 2), rng.int(1, 3), rng.int(1, 3)]) }, params };
  },
});

export const upsample2dBackward = backwardOf(upsample2d, {
  gradOf: { dx: 'x' },
  reference(i, p) {
    const { out, scale } = upsampleSize(i.x.shape[2], i.x.shape[3], p.size, p.scaleFactor);
    return { dx: upsample2dBackwardRef(i.x, i.dy, out[0], out[1], p.mode, p.alignCorners, scale) };
  },
});

export const maxUnpool2dBackward = backwardOf(maxUnpool2d, {
  gradOf: { dx: 'x' },
  reference(i, p) {
    const [h, w] = unpoolOutSize(i.x, p);
    return { dx: maxUnpool2dBackwardRef(i.x, i.indices, i.dy, h, w) };
  },
});

register(maxUnpool2d, upsample2d, upsample2dBackward, maxUnpool2dBackward);
