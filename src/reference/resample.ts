/** Exact reference: max unpooling and upsampling (nearest, bilinear). NCHW. */
import { ExactSum } from '../exact.js';
import { invalidInputs, invalidParams } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData, shapeString } from '../tensor.js';
import { checkDy, flat, ScatterSum } from './common.js';

/**
 * Max unpooling: every value goes back to the position its index names within its (n, c) plane,
 * everything else is 0:
 *
 *   y[n, c].flat[indices[n,c,i,j]] = x[n,c,i,j]
 *
 * The default output size is (in − 1)·s − P⁻ − P⁺ + k per axis; an explicit one must lie within
 * ±stride of it (PyTorch). Repeated indices: the last write wins (row-major order).
 */
export function maxUnpool2dRef(x: Arr, indices: Arr, outH: number, outW: number): Arr {
  const [N, C, H, W] = x.shape;
  checkUnpoolIndices(x, indices, outH, outW);
  const xd = flat(x);
  const id = flat(indices);
  const plane = outH * outW;
  const y = new Float64Array(N * C * plane);
  for (let src = 0; src < N * C * H * W; src++) y[Math.floor(src / (H * W)) * plane + id[src]] = xd[src];
  return fromData(y, [N, C, outH, outW]);
}

/** maxUnpool2d's indices: the shape of x, each an integer position in its outH×outW output plane. */
export function checkUnpoolIndices(x: Arr, indices: Arr, outH: number, outW: number): void {
  if (indices.shape.length !== 4 || indices.shape.some((d, i) => d !== x.shape[i])) {
    throw invalidInputs('/inputs/indices/shape', `indices must have the shape of x ${shapeString(x.shape)}, got ${shapeString(indices.shape)}`);
  }
  const id = flat(indices);
  const plane = outH * outW;
  for (let src = 0; src < id.length; src++) {
    const idx = id[src];
    if (!Number.isInteger(idx) || idx < 0 || idx >= plane) {
      throw invalidInputs(`/inputs/indices/data/${src}`, `index ${idx} is outside the ${outH}×${outW} output plane (0..${plane - 1})`);
    }
  }
}

export function unpoolDefaultSize(inSize: number, k: number, s: number, pb: number, pe: number): number {
  return (inSize - 1) * s - pb - pe + k;
}

/**
 * Nearest-neighbour source index, as PyTorch computes it (in float32, whatever the dtype):
 * src = min(⌊dst · scale⌋, in − 1) with scale = 1/scaleFactor when a scale factor was given,
 * in/out otherwise; except that an output of the input's size copies (src = dst) and one of twice
 * its size halves (src = dst >> 1), whatever the scale factor (torch 1.13 `nearest_idx`:
 * scaleFactor 2.0000001 on 4 rows gives rows 0 0 1 1 …, where ⌊dst·fl(1/2.0000001)⌋ gives 0 0 0 1).
 */
export function nearestIndex(dst: number, inSize: number, outSize: number, scaleFactor: number | undefined): number {
  if (outSize === inSize) return dst;
  if (outSize === 2 * inSize) return dst >> 1;
  const scale = Math.fround(scaleFactor !== undefined ? 1 / scaleFactor : inSize / outSize);
  return Math.min(Math.floor(Math.fround(dst * scale)), inSize - 1);
}

/**
 * Bilinear source coordinate: alignCorners: src = dst·(in−1)/(out−1); otherwise the half-pixel
 * rule src = (dst + ½)·scale − ½, clamped at 0, with scale = 1/scaleFactor or in/out.
 */
export function linearSource(dst: number, inSize: number, outSize: number, alignCorners: boolean, scaleFactor: number | undefined): number {
  if (alignCorners) return outSize > 1 ? (dst * (inSize - 1)) / (outSize - 1) : 0;
  const scale = scaleFactor !== undefined ? 1 / scaleFactor : inSize / outSize;
  const src = scale * (dst + 0.5) - 0.5;
  return src < 0 ? 0 : src;
}

/**
 * Upsampling to outH × outW. Nearest: y[i,j] = x[src(i), src(j)]. Bilinear: with h = ⌊src_h⌋,
 * λ = src_h − h, h' = min(h + 1, H − 1) (likewise w, μ, w'):
 *
 *   y[i,j] = (1−λ)(1−μ)·x[h,w] + (1−λ)μ·x[h,w'] + λ(1−μ)·x[h',w] + λμ·x[h',w']
 *
 * (the four products accumulated exactly).
 */
export function upsample2dRef(x: Arr, outH: number, outW: number, mode: 'nearest' | 'bilinear', alignCorners: boolean, scale: [number, number] | undefined): Arr {
  const [N, C, H, W] = x.shape;
  const xd = flat(x);
  const y = new Float64Array(N * C * outH * outW);
  const acc = new ExactSum();
  let t = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        if (mode === 'nearest') {
          y[t++] = xd[base + nearestIndex(i, H, outH, scale?.[0]) * W + nearestIndex(j, W, outW, scale?.[1])];
          continue;
        }
        const taps = bilinearTaps(i, j, H, W, outH, outW, alignCorners, scale);
        acc.reset();
        for (let q = 0; q < 4; q++) acc.addProduct(taps.w[q], xd[base + taps.idx[q]]);
        y[t++] = acc.value();
      }
    }
  }
  return fromData(y, [N, C, outH, outW]);
}

/**
 * The four source pixels of bilinear output (i, j) within a plane, and their weights
 * (1−λ)(1−μ), (1−λ)μ, λ(1−μ), λμ.
 */
export function bilinearTaps(i: number, j: number, H: number, W: number, outH: number, outW: number, alignCorners: boolean, scale: [number, number] | undefined): { idx: number[]; w: number[] } {
  const sh = linearSource(i, H, outH, alignCorners, scale?.[0]);
  const sw = linearSource(j, W, outW, alignCorners, scale?.[1]);
  const h = Math.floor(sh);
  const w = Math.floor(sw);
  const hp = h < H - 1 ? h + 1 : h;
  const wp = w < W - 1 ? w + 1 : w;
  const [l1, m1] = [sh - h, sw - w];
  const [l0, m0] = [1 - l1, 1 - m1];
  return { idx: [h * W + w, h * W + wp, hp * W + w, hp * W + wp], w: [l0 * m0, l0 * m1, l1 * m0, l1 * m1] };
}

/** Output size of upsample2d from `size` or `scaleFactor` (⌊in · scale⌋). */
export function upsampleSize(H: number, W: number, size: unknown, scaleFactor: unknown): { out: [number, number]; scale?: [number, number] } {
  if ((size === undefined) === (scaleFactor === undefined)) {
    throw invalidParams(size === undefined ? '/params/size' : '/params/scaleFactor', 'give exactly one of size and scaleFactor');
  }
  if (size !== undefined) {
    const s = typeof size === 'number' ? [size, size] : (size as number[]);
    return { out: [s[0], s[1]] };
  }
  const f = typeof scaleFactor === 'number' ? [scaleFactor, scaleFactor] : (scaleFactor as number[]);
  const out: [number, number] = [Math.floor(H * f[0]), Math.floor(W * f[1])];
  if (out[0] < 1 || out[1] < 1) throw invalidParams('/params/scaleFactor', `scaleFactor [${f.join(', ')}] gives an empty output from ${H}×${W}`);
  return { out, scale: [f[0], f[1]] };
}

// ---- backward passes (the gradients of the ops above; see ops/backward.ts for how they are registered) ----

/** upsample2d backward: nearest sends dy to its source pixel; bilinear splits it over the four corners. */
export function upsample2dBackwardRef(x: Arr, dy: Arr, outH: number, outW: number, mode: 'nearest' | 'bilinear', alignCorners: boolean, scale: [number, number] | undefined): Arr {
  const [N, C, H, W] = x.shape;
  const g = checkDy(dy, [N, C, outH, outW]);
  const dx = new ScatterSum(N * C * H * W);
  let t = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let i = 0; i < outH; i++)
      for (let j = 0; j < outW; j++, t++) {
        if (mode === 'nearest') {
          dx.add(base + nearestIndex(i, H, outH, scale?.[0]) * W + nearestIndex(j, W, outW, scale?.[1]), g[t]);
          continue;
        }
        const taps = bilinearTaps(i, j, H, W, outH, outW, alignCorners, scale);
        for (let q = 0; q < 4; q++) dx.addProduct(base + taps.idx[q], taps.w[q], g[t]);
      }
  }
  return fromData(dx.values(), x.shape);
}

/** maxUnpool2d backward: dx[n,c,i,j] = dy[n,c].flat[indices[n,c,i,j]] (a gather). */
export function maxUnpool2dBackwardRef(x: Arr, indices: Arr, dy: Arr, outH: number, outW: number): Arr {
  const [N, C, H, W] = x.shape;
  const g = checkDy(dy, [N, C, outH, outW]);
  const id = flat(indices);
  const plane = outH * outW;
  const dx = new Float64Array(N * C * H * W);
  for (let t = 0; t < dx.length; t++) dx[t] = g[Math.floor(t / (H * W)) * plane + id[t]];
  return fromData(dx, x.shape);
}
