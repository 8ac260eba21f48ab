/**
 * The `simd` backend's reductions over windows and rows: max and average pooling, softmax, as
 * scalar WebAssembly loops over the float64 input (copied into the engine's memory as is), outputs
 * rounded to float32. These ops are memory-bound: copying the input costs as much as the loops.
 *
 * Windows are described per axis, once: output row i scans the valid rows h = first + p·d for
 * p < count (taps in the padding are never visited), so the loops hold no bounds tests and visit
 * the taps in the reference's order: max pooling keeps the reference's rule (a tap wins when
 * v > max or v is NaN, the first valid cell when none does) and hence its indices, exactly.
 */
import { fromData, type Arr } from '../../src/tensor.js';
import { flat, resolveDim, splitAt } from '../../src/reference/common.js';
import { poolShape, type AvgOptions, type PoolGeometry } from '../../src/reference/pooling.js';
import { Arena, getEngine, ranges, SPLIT_MIN } from './engine.js';
import type { UnaryName } from './wat.js';

/** Per output position along one axis: [first valid input index, number of valid taps]. */
function axisWindows(L: number, Lo: number, k: number, s: number, d: number, pb: number): Int32Array {
  const t = new Int32Array(2 * Lo);
  for (let o = 0; o < Lo; o++) {
    const start = o * s - pb;
    const lo = Math.max(0, Math.ceil(-start / d));
    const hi = Math.min(k, Math.floor((L - 1 - start) / d) + 1);
    t[2 * o] = start + lo * d;
    t[2 * o + 1] = Math.max(0, hi - lo);
  }
  return t;
}

async function setUp(x: Arr, g: PoolGeometry, outputs: number) {
  const [N, C, H, W] = x.shape;
  const [Ho, Wo] = poolShape(H, W, g);
  const ti = axisWindows(H, Ho, g.kernel[0], g.stride[0], g.dilation[0], g.pads.begin[0]);
  const tj = axisWindows(W, Wo, g.kernel[1], g.stride[1], g.dilation[1], g.pads.begin[1]);
  const n = N * C * Ho * Wo;
  const ar = new Arena(await getEngine());
  const xOff = ar.allocF64(N * C * H * W);
  const outOffs = Array.from({ length: outputs }, () => ar.allocF64(n));
  const tiOff = ar.alloc(2 * Ho);
  const tjOff = ar.alloc(2 * Wo);
  const diOff = ar.allocF64(Ho);
  const djOff = ar.allocF64(Wo);
  ar.commit();
  ar.f64().set(flat(x), xOff / 8);
  ar.i32.set(ti, tiOff / 4);
  ar.i32.set(tj, tjOff / 4);
  return { N, C, H, W, Ho, Wo, n, ar, xOff, outOffs, tiOff, tjOff, diOff, djOff, ti, tj };
}

/** maxPool2d: the max over the window's valid taps and its index h·W + w. */
export async function maxPool2d(x: Arr, g: PoolGeometry, returnIndices: boolean): Promise<{ y: Arr; indices?: Arr }> {
  const { N, C, H, W, Ho, Wo, n, ar, xOff, outOffs, tiOff, tjOff } = await setUp(x, g, 2);
  // planes split over the threads when each gets enough taps
  const perPlane = Ho * Wo * g.kernel[0] * g.kernel[1];
  ar.fns.parallel(
    'maxpool',
    ranges(ar.fns.threads, N * C, SPLIT_MIN / perPlane).map(([from, count]) => [xOff + 8 * from * H * W, outOffs[0] + 8 * from * Ho * Wo, outOffs[1] + 8 * from * Ho * Wo, count, H, W, Ho, Wo, tiOff, tjOff, g.dilation[0], g.dilation[1]]),
  );
  const y = fromData(ar.takeF64(outOffs[0], n), [N, C, Ho, Wo]);
  return returnIndices ? { y, indices: fromData(ar.takeF64(outOffs[1], n), [N, C, Ho, Wo]) } : { y };
}

/**
 * avgPool2d: Σ valid taps / divisor, with divisor = divisorOverride, else (with countIncludePad)
 * the window clipped to the padded extent, else the valid taps; 0 for a window without valid taps.
 */
export async function avgPool2d(x: Arr, g: PoolGeometry, o: AvgOptions): Promise<Arr> {
  const { N, C, H, W, Ho, Wo, n, ar, xOff, outOffs, tiOff, tjOff, diOff, djOff, ti, tj } = await setUp(x, g, 1);
  const f64 = ar.f64();
  const ins = [H, W];
  [ti, tj].forEach((t, a) => {
    const at = (a === 0 ? diOff : djOff) / 8;
    for (let e = 0; e < t.length / 2; e++) {
      // the padded extent of the window: [e·s − P⁻, min(e·s − P⁻ + k, L + P⁺))
      const start = e * g.stride[a] - g.pads.begin[a];
      f64[at + e] = o.countIncludePad ? Math.min(start + g.kernel[a], ins[a] + g.pads.end[a]) - start : t[2 * e + 1];
    }
  });
  const perPlane = Ho * Wo * g.kernel[0] * g.kernel[1];
  ar.fns.parallel(
    'avgpool',
    ranges(ar.fns.threads, N * C, SPLIT_MIN / perPlane).map(([from, count]) => [xOff + 8 * from * H * W, outOffs[0] + 8 * from * Ho * Wo, count, H, W, Ho, Wo, tiOff, tjOff, diOff, djOff, o.divisorOverride ?? 0]),
  );
  return fromData(ar.takeF64(outOffs[0], n), [N, C, Ho, Wo]);
}

/**
 * softmax along dim, max-shifted: y = e^(x − m) / Σ e^(x − m) with the module's own exp (float64,
 * relative error below 1e-13) and the sum in float64, y rounded to float32; NaN rows give NaN.
 */
export async function softmax(x: Arr, dim: number): Promise<Arr> {
  const d = resolveDim(dim, x.shape.length, '/params/dim');
  const [outer, size, inner] = splitAt(x.shape, d);
  const n = outer * size * inner;
  const ar = new Arena(await getEngine());
  const xOff = ar.allocF64(n);
  const yOff = ar.allocF64(n);
  ar.commit();
  ar.f64().set(flat(x), xOff / 8);
  const block = size * inner;
  ar.fns.parallel(
    'softmax',
    ranges(ar.fns.threads, outer, SPLIT_MIN / Math.max(block, 1)).map(([from, count]) => [xOff + 8 * from * block, yOff + 8 * from * block, count, size, inner]),
  );
  return fromData(ar.takeF64(yOff, n), x.shape);
}

/** An elementwise op (UNARY in wat.ts), y rounded to float32. */
export async function unary(name: UnaryName, x: Arr): Promise<Arr> {
  const n = flat(x).length;
  const ar = new Arena(await getEngine());
  const xOff = ar.allocF64(n);
  const yOff = ar.allocF64(n);
  ar.commit();
  ar.f64().set(flat(x), xOff / 8);
  ar.fns[name](xOff, yOff, n);
  return fromData(ar.takeF64(yOff, n), x.shape);
}
