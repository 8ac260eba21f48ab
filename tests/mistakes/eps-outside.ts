// Batch norm dividing by √σ² + ε (ε outside the square root).
type Nd = { shape: number[]; data: Float64Array; get(...i: number[]): number };

export function batchNorm(
  { x, weight, bias, runningMean, runningVar }: { x: Nd; weight?: Nd; bias?: Nd; runningMean?: Nd; runningVar?: Nd },
  { training, momentum, eps, runningVarEstimator }: { training: boolean; momentum: number; eps: number; runningVarEstimator: string },
) {
  const [N, C] = x.shape;
  const inner = x.data.length / (N * C);
  const count = N * inner;
  const mean: number[] = [];
  const variance: number[] = [];
  for (let c = 0; c < C; c++) {
    const vals: number[] = [];
    for (let b = 0; b < N; b++) for (let k = 0; k < inner; k++) vals.push(x.data[(b * C + c) * inner + k]);
    const m = training ? vals.reduce((a, v) => a + v, 0) / count : runningMean!.get(c);
    mean.push(m);
    variance.push(training ? vals.reduce((a, v) => a + (v - m) ** 2, 0) / count : runningVar!.get(c));
  }
  const y = Array.from(x.data, (v, i) => {
    const c = Math.floor(i / inner) % C;
    return ((v - mean[c]) / (Math.sqrt(variance[c]) + eps)) * (weight?.get(c) ?? 1) + (bias?.get(c) ?? 0); // the mistake
  });
  const out: Record<string, { shape: number[]; data: number[] }> = { y: { shape: x.shape, data: y } };
  if (training) {
    out.batchMean = { shape: [C], data: mean };
    out.batchVar = { shape: [C], data: variance };
    if (runningMean && runningVar) {
      out.runningMean = { shape: [C], data: mean.map((m, c) => (1 - momentum) * runningMean.get(c) + momentum * m) };
      const unbiased = runningVarEstimator === 'unbiased' ? count / (count - 1) : 1;
      out.runningVar = { shape: [C], data: variance.map((v, c) => (1 - momentum) * runningVar.get(c) + momentum * v * unbiased) };
    }
  }
  return out;
}
