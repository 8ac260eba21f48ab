/**
 * A naive float64 conv2d (npm run bench's yardstick for the exact reference): the reference's loop
 * nest and padding tests with a plain `s += x·w`, no exactness.
 */
import type { Arr } from '../src/tensor.js';
import type { ConvGeometry } from '../src/reference/conv.js';

export function naiveConv2d(x: Arr, w: Arr, g: ConvGeometry): Float64Array {
  const [N, C, H, W] = x.shape;
  const [O, Cg, kh, kw] = w.shape;
  const xd = x.data as Float64Array;
  const wd = w.data as Float64Array;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  const [ph, pw] = g.pads.begin;
  const Ho = Math.floor((H + ph + g.pads.end[0] - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + pw + g.pads.end[1] - dw * (kw - 1) - 1) / sw) + 1;
  const Og = O / g.groups;
  const out = new Float64Array(N * O * Ho * Wo);
  let t = 0;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const gi = Math.floor(o / Og);
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = 0;
          for (let c = 0; c < Cg; c++) {
            const xBase = (n * C + gi * Cg + c) * H;
            const wBase = (o * Cg + c) * kh;
            for (let p = 0; p < kh; p++) {
              const h = i * sh - ph + p * dh;
              if (h < 0 || h >= H) continue;
              for (let q = 0; q < kw; q++) {
                const v = j * sw - pw + q * dw;
                if (v < 0 || v >= W) continue;
                s += xd[(xBase + h) * W + v] * wd[(wBase + p) * kw + q];
              }
            }
          }
          out[t++] = s;
        }
    }
  return out;
}
