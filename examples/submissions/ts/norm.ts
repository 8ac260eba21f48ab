import type { Nd, Out } from './util.js';

interface BnParams {
  training: boolean;
  momentum: number;
  eps: number;
  runningVarEstimator: 'biased' | 'unbiased';
}

export function batchNorm(
  { x, weight, bias, runningMean, runningVar }: { x: Nd; weight?: Nd; bias?: Nd; runningMean?: Nd; runningVar?: Nd },
  { training, momentum, eps, runningVarEstimator }: BnParams,
): Record<string, Out> {
  const [N, C] = x.shape;
  const inner = x.data.length / (N * C);
  const n = N * inner;
  const at = (b: number, c: number, k: number) => (b * C + c) * inner + k;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    if (!training) {
      mean[c] = runningMean!.get(c);
      variance[c] = runningVar!.get(c);
      continue;
    }
    let s = 0;
    for (let b = 0; b < N; b++) for (let k = 0; k < inner; k++) s += x.data[at(b, c, k)];
    mean[c] = s / n;
    let v = 0;
    for (let b = 0; b < N; b++) for (let k = 0; k < inner; k++) v += (x.data[at(b, c, k)] - mean[c]) ** 2;
    variance[c] = v / n;
  }
  const y = new Float64Array(x.data.length);
  for (let b = 0; b < N; b++)
    for (let c = 0; c < C; c++)
      for (let k = 0; k < inner; k++) y[at(b, c, k)] = ((x.data[at(b, c, k)] - mean[c]) / Math.sqrt(variance[c] + eps)) * (weight ? weight.get(c) : 1) + (bias ? bias.get(c) : 0);
  const out: Record<string, Out> = { y: { shape: x.shape, data: y } };
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
