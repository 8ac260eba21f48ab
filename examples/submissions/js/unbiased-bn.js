// Batch norm normalised with the unbiased variance (n − 1): a mistake the grader names. Only
// batchNorm is implemented; a single-file submission is graded on its own.
export function batchNorm({ x, weight, bias, runningMean, runningVar }, { training, momentum, eps }) {
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
    variance[c] = v / (n - 1); // the mistake: batch norm normalises with the biased variance (÷ n)
  }
  const y = new Float64Array(x.data.length);
  for (let b = 0; b < N; b++)
    for (let c = 0; c < C; c++)
      for (let k = 0; k < inner; k++) y[at(b, c, k)] = ((x.data[at(b, c, k)] - mean[c]) / Math.sqrt(variance[c] + eps)) * (weight ? weight.get(c) : 1) + (bias ? bias.get(c) : 0);
  const out = { y: { shape: x.shape, data: y } };
  if (training) {
    out.batchMean = { shape: [C], data: mean };
    out.batchVar = { shape: [C], data: variance.map((v) => (v * (n - 1)) / n) };
    if (runningMean && runningVar) {
      out.runningMean = { shape: [C], data: Array.from(mean, (m, c) => (1 - momentum) * runningMean.get(c) + momentum * m) };
      out.runningVar = { shape: [C], data: Array.from(variance, (v, c) => (1 - momentum) * runningVar.get(c) + momentum * v) };
    }
  }
  return out;
}
