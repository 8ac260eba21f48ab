// A student who wrote conv2d with their own signature, conv2d(x, w, b, stride, pad), on nested
// arrays [C][H][W] for one image, and relu(x) on a flat array. The instructor's adapter
// (examples/adapters/positional.mjs) maps the catalogue's calls onto these functions.
export function conv2d(x, w, b, stride, pad) {
  const C = x.length, H = x[0].length, W = x[0][0].length;
  const O = w.length, k = w[0][0].length;
  const Ho = Math.floor((H + 2 * pad - k) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - k) / stride) + 1;
  const y = [];
  for (let o = 0; o < O; o++) {
    const plane = [];
    for (let i = 0; i < Ho; i++) {
      const row = [];
      for (let j = 0; j < Wo; j++) {
        let s = b ? b[o] : 0;
        for (let c = 0; c < C; c++)
          for (let p = 0; p < k; p++)
            for (let q = 0; q < k; q++) {
              const h = i * stride - pad + p, v = j * stride - pad + q;
              if (h >= 0 && h < H && v >= 0 && v < W) s += x[c][h][v] * w[o][c][p][q];
            }
        row.push(s);
      }
      plane.push(row);
    }
    y.push(plane);
  }
  return y;
}

export function relu(values) {
  return values.map((v) => Math.max(0, v));
}
