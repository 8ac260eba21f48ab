/**
 * The `simd` backend's detection ops: pairwise IoU and the greedy scan of NMS, in WebAssembly over
 * the float64 boxes, two boxes at a time (f64x2). The IoU repeats the reference's iouPair operation
 * for operation in float64 (IEEE arithmetic, same order, f64x2.min/max with the same rules for NaN
 * and ±0 as Math.min/max), so NMS decisions are the reference's, exactly; boxIou rounds each IoU to
 * float32.
 */
import { fromData, type Arr } from '../../src/tensor.js';
import { bilinearAxis, checkRois, roiAlignGrid, type NmsOptions, type RoiAlignOptions } from '../../src/reference/detection.js';
import { flat } from '../../src/reference/common.js';
import { Arena, getEngine, ranges, SPLIT_MIN } from './engine.js';

/** IoU matrix [N, M] of xyxy boxes a [N·4] and b [M·4]; b goes in as columns, two boxes per SIMD step. */
export async function boxIou(a: Float64Array, b: Float64Array, N: number, M: number, plus: number): Promise<Arr> {
  const M2 = M + (M & 1);
  const ar = new Arena(await getEngine());
  const aOff = ar.allocF64(4 * N);
  const bOff = ar.allocF64(4 * M2);
  const outOff = ar.allocF64(N * M2);
  ar.commit();
  const f64 = ar.f64();
  f64.set(a, aOff / 8);
  // columns x1, y1, x2, y2 of b, each M2 long (an odd M gets a zero box, computed and dropped)
  f64.fill(0, bOff / 8, bOff / 8 + 4 * M2);
  for (let j = 0; j < M; j++) for (let k = 0; k < 4; k++) f64[bOff / 8 + k * M2 + j] = b[4 * j + k];
  ar.fns.parallel('boxiou', ranges(ar.fns.threads, N, SPLIT_MIN / Math.max(M2, 1)).map(([from, count]) => [aOff + 32 * from, bOff, count, M2, plus, outOff + 8 * from * M2]));
  if (M2 === M) return fromData(ar.takeF64(outOff, N * M), [N, M]);
  const rows = ar.takeF64(outOff, N * M2);
  const out = new Float64Array(N * M);
  for (let i = 0; i < N; i++) out.set(rows.subarray(i * M2, i * M2 + M), i * M);
  return fromData(out, [N, M]);
}

/** A greedy NMS scan (see NmsScan) bound to an instantiated engine. */
export async function nmsScanner(): Promise<(b: Float64Array, order: number[], o: NmsOptions) => number[]> {
  const engine = await getEngine();
  return (b, order, o) => {
    const ar = new Arena(engine);
    const boxesOff = ar.allocF64(b.length);
    const orderOff = ar.alloc(order.length);
    const keepOff = ar.alloc(order.length);
    const kbOff = ar.allocF64(5 * (order.length + 2));
    ar.commit();
    ar.f64().set(b, boxesOff / 8);
    ar.i32.set(order, orderOff / 4);
    const kept = ar.fns.nms(boxesOff, orderOff, order.length, o.iouThreshold, o.pixelInclusive ? 1 : 0, Math.min(o.maxOutput ?? 0x7fffffff, 0x7fffffff), keepOff, kbOff);
    return Array.from(ar.i32.subarray(keepOff / 4, keepOff / 4 + kept));
  };
}

/**
 * The valid samples of one RoI along one axis, grouped by bin: per bin [first entry, count], and
 * per entry [lo·scale, hi·scale, h, l] from the reference's own bilinearAxis at the reference's
 * sample positions start + b·bin + (s + ½)·bin/grid.
 */
function axisSamples(L: number, bins: number, start: number, bin: number, grid: number, scale: number): { ranges: Int32Array; entries: number[] } {
  const ranges = new Int32Array(2 * bins);
  const entries: number[] = [];
  for (let b = 0; b < bins; b++) {
    ranges[2 * b] = entries.length / 4;
    for (let s = 0; s < grid; s++) {
      const a = bilinearAxis(L, start + b * bin + ((s + 0.5) * bin) / grid);
      if (a) entries.push(a.lo * scale, a.hi * scale, a.h, a.l);
    }
    ranges[2 * b + 1] = entries.length / 4 - ranges[2 * b];
  }
  return { ranges, entries };
}

/** roiAlign (torchvision, avg): per RoI, separable sample tables, then one WebAssembly pass over its channels. */
export async function roiAlign(x: Arr, rois: Arr, o: RoiAlignOptions): Promise<Arr> {
  const [, C, H, W] = x.shape;
  const { batch } = checkRois(x, rois);
  const K = rois.shape[0];
  const r = flat(rois);
  const tables = batch.map((_, k) => {
    const g = roiAlignGrid(r, k, o);
    return { g, ys: axisSamples(H, o.ph, g.startH, g.binH, g.gridH, W), xs: axisSamples(W, o.pw, g.startW, g.binW, g.gridW, 1) };
  });
  const ar = new Arena(await getEngine());
  const xOff = ar.allocF64(flat(x).length);
  const outOff = ar.allocF64(K * C * o.ph * o.pw);
  const at = tables.map((t) => ({ ti: ar.alloc(2 * o.ph), tj: ar.alloc(2 * o.pw), ty: ar.allocF64(t.ys.entries.length), tx: ar.allocF64(t.xs.entries.length) }));
  ar.commit();
  const f64 = ar.f64();
  f64.set(flat(x), xOff / 8);
  tables.forEach((t, k) => {
    ar.i32.set(t.ys.ranges, at[k].ti / 4);
    ar.i32.set(t.xs.ranges, at[k].tj / 4);
    f64.set(t.ys.entries, at[k].ty / 8);
    f64.set(t.xs.entries, at[k].tx / 8);
    ar.fns.roialign(xOff + 8 * batch[k] * C * H * W, outOff + 8 * k * C * o.ph * o.pw, C, H, W, o.ph, o.pw, at[k].ti, at[k].tj, at[k].ty, at[k].tx, t.g.count);
  });
  return fromData(ar.takeF64(outOff, K * C * o.ph * o.pw), [K, C, o.ph, o.pw]);
}
