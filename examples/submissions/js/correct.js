// A correct hand-written submission for examples/assignments/intro.json, in plain JavaScript.
// Each function receives (inputs, params): inputs are scijs ndarrays (NCHW, Float64Array data),
// params hold every param with its default filled in. It returns an ndarray-like {shape, data},
// or an object keyed by output name.

const pair = (v) => (typeof v === 'number' ? [v, v] : v.length === 1 ? [v[0], v[0]] : v);

/** [top, bottom, left, right] from the padding forms of the catalogue. */
function pads2d(padding, k, d) {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    const th = d[0] * (k[0] - 1);
    const tw = d[1] * (k[1] - 1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  if (padding.length === 2) return [padding[0], padding[0], padding[1], padding[1]];
  return padding;
}

export function conv2d({ x, weight, bias }, { stride, padding, dilation, groups, flip }) {
  const [N, C, H, W] = x.shape;
  const [O, Cg, kh, kw] = weight.shape;
  const [sh, sw] = pair(stride);
  const [dh, dw] = pair(dilation);
  const [pt, pb, pl, pr] = pads2d(padding, [kh, kw], [dh, dw]);
  const Ho = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const Og = O / groups;
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
                const wv = flip ? weight.get(o, c, kh - 1 - p, kw - 1 - q) : weight.get(o, c, p, q);
                s += x.get(n, g * Cg + c, h, w) * wv;
              }
          y[t++] = s;
        }
    }
  return { shape: [N, O, Ho, Wo], data: y };
}

export function maxPool2d({ x }, { kernelSize, stride, padding, dilation, ceilMode, returnIndices }) {
  const [N, C, H, W] = x.shape;
  const [kh, kw] = pair(kernelSize);
  const [sh, sw] = pair(stride ?? kernelSize);
  const [dh, dw] = pair(dilation);
  const [pt, pb, pl, pr] = pads2d(padding, [kh, kw], [dh, dw]);
  const size = (n, k, s, d, a, b) => {
    let out = Math.floor((n + a + b - d * (k - 1) - 1 + (ceilMode ? s - 1 : 0)) / s) + 1;
    if (ceilMode && (out - 1) * s >= n + a) out--; // the last window must start inside the input or the left padding
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
              if (h < 0 || h >= H || w < 0 || w >= W) continue; // padding is never read
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

export function relu({ x }) {
  return { shape: x.shape, data: x.data.map((v) => (v > 0 ? v : Number.isNaN(v) ? v : 0)) };
}

export function linear({ x, weight, bias }) {
  const inF = x.shape[x.shape.length - 1];
  const outF = weight.shape[0];
  const rows = x.data.length / inF;
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias.get(o) : 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i] * weight.get(o, i);
      y[r * outF + o] = s;
    }
  return { shape: [...x.shape.slice(0, -1), outF], data: y };
}

export function softmax({ x }, { dim }) {
  const d = dim < 0 ? dim + x.shape.length : dim;
  const size = x.shape[d];
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const outer = x.data.length / (size * inner);
  const y = new Float64Array(x.data.length);
  for (let o = 0; o < outer; o++)
    for (let k = 0; k < inner; k++) {
      const at = (j) => (o * size + j) * inner + k;
      let m = -Infinity;
      for (let j = 0; j < size; j++) m = Math.max(m, x.data[at(j)]);
      let s = 0;
      for (let j = 0; j < size; j++) s += Math.exp(x.data[at(j)] - m);
      for (let j = 0; j < size; j++) y[at(j)] = Math.exp(x.data[at(j)] - m) / s;
    }
  return { shape: x.shape, data: y };
}

export function batchNorm({ x, weight, bias, runningMean, runningVar }, { training, momentum, eps, runningVarEstimator }) {
  const [N, C] = x.shape;
  const inner = x.data.length / (N * C);
  const n = N * inner;
  const at = (b, c, k) => (b * C + c) * inner + k;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    if (!training) {
      mean[c] = runningMean.get(c);
      variance[c] = runningVar.get(c);
      continue;
    }
    let s = 0;
    for (let b = 0; b < N; b++) for (let k = 0; k < inner; k++) s += x.data[at(b, c, k)];
    mean[c] = s / n;
    let v = 0;
    for (let b = 0; b < N; b++) for (let k = 0; k < inner; k++) v += (x.data[at(b, c, k)] - mean[c]) ** 2;
    variance[c] = v / n; // biased: the batch is normalised with the population variance
  }
  const y = new Float64Array(x.data.length);
  for (let b = 0; b < N; b++)
    for (let c = 0; c < C; c++)
      for (let k = 0; k < inner; k++) {
        const g = weight ? weight.get(c) : 1;
        const be = bias ? bias.get(c) : 0;
        y[at(b, c, k)] = ((x.data[at(b, c, k)] - mean[c]) / Math.sqrt(variance[c] + eps)) * g + be;
      }
  const out = { y: { shape: x.shape, data: y } };
  if (training) {
    out.batchMean = { shape: [C], data: mean };
    out.batchVar = { shape: [C], data: variance };
    if (runningMean && runningVar) {
      const corr = runningVarEstimator === 'unbiased' ? n / (n - 1) : 1;
      out.runningMean = { shape: [C], data: Array.from(mean, (m, c) => (1 - momentum) * runningMean.get(c) + momentum * m) };
      out.runningVar = { shape: [C], data: Array.from(variance, (v, c) => (1 - momentum) * runningVar.get(c) + momentum * v * corr) };
    }
  }
  return out;
}
