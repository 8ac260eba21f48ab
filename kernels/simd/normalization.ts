/**
 * The `simd` backend's batch norm: per-channel statistics (two passes, float64) and the
 * normalization y = (x − μ)/√(σ² + ε)·γ + β, in WebAssembly; y rounded to float32.
 */
import { fromData, type Arr } from '../../src/tensor.js';
import { flat } from '../../src/reference/common.js';
import { Arena, getEngine, ranges, SPLIT_MIN } from './engine.js';

/** batchNorm with the given statistics, or (undefined) the batch's own: mean and biased variance. */
export async function batchNorm(x: Arr, mean: Float64Array | undefined, variance: Float64Array | undefined, gamma: Arr | undefined, beta: Arr | undefined, eps: number): Promise<{ y: Arr; mean: Float64Array; variance: Float64Array }> {
  const [N, C] = x.shape;
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const n = flat(x).length;
  const ar = new Arena(await getEngine());
  const xOff = ar.allocF64(n);
  const yOff = ar.alloc(n);
  const [mOff, vOff, gOff, bOff] = [0, 1, 2, 3].map(() => ar.allocF64(C));
  ar.commit();
  const f64 = ar.f64();
  f64.set(flat(x), xOff / 8);
  f64.fill(1, gOff / 8, gOff / 8 + C);
  f64.fill(0, bOff / 8, bOff / 8 + C);
  if (gamma) f64.set(flat(gamma), gOff / 8);
  if (beta) f64.set(flat(beta), bOff / 8);
  if (mean && variance) {
    f64.set(mean, mOff / 8);
    f64.set(variance, vOff / 8);
  } else ar.fns.bnstats(xOff, N, C, inner, mOff, vOff);
  // planes (n, c) split over the threads
  ar.fns.parallel('bnapply', ranges(ar.fns.threads, N * C, SPLIT_MIN / Math.max(inner, 1)).map(([from, count]) => [xOff + 8 * from * inner, yOff + 4 * from * inner, count, C, from % Math.max(C, 1), inner, mOff, vOff, gOff, bOff, eps]));
  return { y: fromData(ar.takeF32(yOff, n), x.shape), mean: ar.takeF64(mOff, C), variance: ar.takeF64(vOff, C) };
}
