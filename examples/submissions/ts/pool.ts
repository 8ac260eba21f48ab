import { pads2d, pair, type Nd, type Out, type Padding } from './util.js';

interface PoolParams {
  kernelSize: number | number[];
  stride?: number | number[];
  padding: Padding;
  dilation: number | number[];
  ceilMode: boolean;
  returnIndices: boolean;
}

export function maxPool2d({ x }: { x: Nd }, { kernelSize, stride, padding, dilation, ceilMode, returnIndices }: PoolParams): Out | { y: Out; indices: Out } {
  const [N, C, H, W] = x.shape;
  const [kh, kw] = pair(kernelSize);
  const [sh, sw] = pair(stride ?? kernelSize);
  const [dh, dw] = pair(dilation);
  const [pt, pb, pl, pr] = pads2d(padding, [kh, kw], [dh, dw]);
  const size = (n: number, k: number, s: number, d: number, a: number, b: number) => {
    let out = Math.floor((n + a + b - d * (k - 1) - 1 + (ceilMode ? s - 1 : 0)) / s) + 1;
    if (ceilMode && (out - 1) * s >= n + a) out--; // the last window starts inside the input or the left padding
    return out;
  };
  const Ho = size(H, kh, sh, dh, pt, pb);
  const Wo = size(W, kw, sw, dw, pl, pr);
  const y = new Float64Array(N * C * Ho * Wo);
  const idx = new Float64Array(y.length);
  let t = 0;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let best = -Infinity;
          let arg = -1;
          for (let p = 0; p < kh; p++)
            for (let q = 0; q < kw; q++) {
              const h = i * sh - pt + p * dh;
              const w = j * sw - pl + q * dw;
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              const v = x.get(n, c, h, w);
              if (arg < 0) arg = h * W + w;
              if (v > best || Number.isNaN(v)) {
                best = v;
                arg = h * W + w;
              }
            }
          y[t] = best;
          idx[t++] = arg;
        }
  const out = { shape: [N, C, Ho, Wo], data: y };
  return returnIndices ? { y: out, indices: { shape: [N, C, Ho, Wo], data: idx, dtype: 'int64' } } : out;
}
