// Batch norm normalised with the unbiased variance (n − 1): a mistake the grader names.
export * from './correct.js';
import { batchNorm as right } from './correct.js';

export function batchNorm(inputs, params) {
  if (!params.training) return right(inputs, params);
  const [N, C] = inputs.x.shape;
  const n = inputs.x.data.length / C;
  // normalising with σ²·n/(n−1) is the same as right() with every deviation scaled by √((n−1)/n)
  const out = right(inputs, params);
  const y = out.y.data;
  const scale = Math.sqrt((n - 1) / n);
  const inner = n / N;
  for (let i = 0; i < y.length; i++) {
    const c = Math.floor(i / inner) % C;
    const beta = inputs.bias ? inputs.bias.get(c) : 0;
    y[i] = (y[i] - beta) * scale + beta;
  }
  return out;
}
