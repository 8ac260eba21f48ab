// conv2d that puts all the padding (2p) before the image, so the output keeps its size but shifts.
export function conv2d({ x, weight, bias }, { stride, padding, dilation, groups, flip }) {
  const two = (v) => (typeof v === 'number' ? [v, v] : v);
  const [sh, sw] = two(stride);
  const [dh, dw] = two(dilation);
  const [N, C, H, W] = x.shape;
  const [O, Cg, kh, kw] = weight.shape;
  let [pt, pl] = [0, 0];
  if (typeof padding === 'number') [pt, pl] = [2 * padding, 2 * padding];
  else if (Array.isArray(padding) && padding.length === 2) [pt, pl] = [2 * padding[0], 2 * padding[1]];
  else if (Array.isArray(padding)) [pt, pl] = [padding[0] + padding[1], padding[2] + padding[3]];
  else if (padding === 'same') [pt, pl] = [dh * (kh - 1), dw * (kw - 1)];
  const Ho = Math.floor((H + pt - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + pl - dw * (kw - 1) - 1) / sw) + 1;
  const y = new Float64Array(N * O * Ho * Wo);
  const og = O / groups;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = bias ? bias.get(o) : 0;
          for (let c = 0; c < Cg; c++)
            for (let p = 0; p < kh; p++)
              for (let q = 0; q < kw; q++) {
                const h = i * sh + p * dh - pt;
                const w = j * sw + q * dw - pl;
                if (h >= 0 && h < H && w >= 0 && w < W) s += x.get(n, Math.floor(o / og) * Cg + c, h, w) * (flip ? weight.get(o, c, kh - 1 - p, kw - 1 - q) : weight.get(o, c, p, q));
              }
          y[((n * O + o) * Ho + i) * Wo + j] = s;
        }
  return { shape: [N, O, Ho, Wo], data: y };
}
