/**
 * The `simd` backend's detection ops: pairwise IoU and the greedy scan of NMS, in WebAssembly over
 * the float64 boxes, two boxes at a time (f64x2). The IoU repeats the reference's iouPair operation
 * for operation in float64 (IEEE arithmetic, same order, f64x2.min/max with the same rules for NaN
 * and ±0 as Math.min/max), so NMS decisions are the reference's, exactly; boxIou rounds each IoU to
 * float32.
 */
import { fromData, type Arr } from '../../src/tensor.js';
import type { NmsOptions } from '../../src/reference/detection.js';
import { Arena, getEngine } from './engine.js';

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
  ar.fns.boxiou(aOff, bOff, N, M2, plus, outOff);
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
