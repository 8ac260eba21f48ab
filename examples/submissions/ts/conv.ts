import { pads2d, pair, type Nd, type Out, type Padding } from './util.js';

interface ConvParams {
  stride: number | number[];
  padding: Padding;
  dilation: number | number[];
  groups: number;
  flip: boolean;
}

// The classic bug of this submission: it "convolves" by rotating the kernel (the signal-processing
// definition), where CNN libraries compute a cross-correlation.
export function conv2d({ x, weight, bias }: { x: Nd; weight: Nd; bias?: Nd }, { stride, padding, dilation, groups, flip }: ConvParams): Out {
  const [N, , H, W] = x.shape;
  const [O, Cg, kh, kw] = weight.shape;
  const [sh, sw] = pair(stride);
  const [dh, dw] = pair(dilation);
  const [pt, pb, pl, pr] = pads2d(padding, [kh, kw], [dh, dw]);
  const Ho = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const Og = O / groups;
  const rotate = !flip; // the bug
  const y = new Float64Array(N * O * Ho * Wo);
  let t = 0;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = bias ? bias.get(o) : 0;
          for (let c = 0; c < Cg; c++)
            for (let p = 0; p < kh; p++)
              for (let q = 0; q < kw; q++) {
                const h = i * sh - pt + p * dh;
                const w = j * sw - pl + q * dw;
                if (h < 0 || h >= H || w < 0 || w >= W) continue;
                s += x.get(n, g * Cg + c, h, w) * (rotate ? weight.get(o, c, kh - 1 - p, kw - 1 - q) : weight.get(o, c, p, q));
              }
          y[t++] = s;
        }
    }
  return { shape: [N, O, Ho, Wo], data: y };
}
