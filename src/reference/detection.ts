/**
 * Exact reference: box formats, IoU / generalised IoU, NMS, RoI pooling and RoI align, with
 * torchvision's semantics (CPU kernels) computed in float64.
 */
import { ExactSum } from '../exact.js';
import { invalidInputs } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData, shapeString } from '../tensor.js';
import { flat } from './common.js';

export const BOX_FORMATS = ['xyxy', 'xywh', 'cxcywh', 'yxyx'] as const;
export type BoxFormat = (typeof BOX_FORMATS)[number];

/** Converts one box to [x1, y1, x2, y2]. */
function toXyxy(b: ArrayLike<number>, o: number, f: BoxFormat): [number, number, number, number] {
  const [a, c, d, e] = [b[o], b[o + 1], b[o + 2], b[o + 3]];
  switch (f) {
    case 'xyxy':
      return [a, c, d, e];
    case 'xywh':
      return [a, c, a + d, c + e];
    case 'cxcywh':
      return [a - d / 2, c - e / 2, a + d / 2, c + e / 2];
    case 'yxyx':
      return [c, a, e, d];
  }
}

function fromXyxy(x1: number, y1: number, x2: number, y2: number, f: BoxFormat): [number, number, number, number] {
  switch (f) {
    case 'xyxy':
      return [x1, y1, x2, y2];
    case 'xywh':
      return [x1, y1, x2 - x1, y2 - y1];
    case 'cxcywh':
      return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
    case 'yxyx':
      return [y1, x1, y2, x2];
  }
}

export function checkBoxes(a: Arr, name: string, cols = 4): void {
  if (a.shape.length !== 2 || a.shape[1] !== cols) throw invalidInputs(`/inputs/${name}/shape`, `${name} must have shape [K, ${cols}], got ${shapeString(a.shape)}`);
}

/** Boxes in xyxy as a flat array. */
export function boxesXyxy(a: Arr, f: BoxFormat): Float64Array {
  const d = flat(a);
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i += 4) out.set(toXyxy(d, i, f), i);
  return out;
}

/** boxConvert: any format to any format, through xyxy. */
export function boxConvertRef(boxes: Arr, inFormat: BoxFormat, outFormat: BoxFormat): Arr {
  checkBoxes(boxes, 'boxes');
  const b = boxesXyxy(boxes, inFormat);
  const out = new Float64Array(b.length);
  for (let i = 0; i < b.length; i += 4) out.set(fromXyxy(b[i], b[i + 1], b[i + 2], b[i + 3], outFormat), i);
  return fromData(out, boxes.shape);
}

/**
 * Area with the degenerate-box policy: a side that is negative (malformed box, x2 < x1) counts as
 * 0, so such a box is empty. `plus` is 1 for the pixel-inclusive convention, else 0.
 */
const side = (lo: number, hi: number, plus: number) => Math.max(hi - lo + plus, 0);

/**
 * IoU of boxes i (in a) and j (in b), both xyxy:
 *
 *   inter = max(min(x2) − max(x1) + δ, 0) · max(min(y2) − max(y1) + δ, 0),
 *   IoU = inter / (area_a + area_b − inter),   δ = 1 when pixelInclusive, else 0
 *
 * A zero union (both boxes empty) gives 0, where torchvision computes 0/0 = NaN.
 */
export function iouPair(a: Float64Array, i: number, b: Float64Array, j: number, plus: number): number {
  const inter = side(Math.max(a[i], b[j]), Math.min(a[i + 2], b[j + 2]), plus) * side(Math.max(a[i + 1], b[j + 1]), Math.min(a[i + 3], b[j + 3]), plus);
  const areaA = side(a[i], a[i + 2], plus) * side(a[i + 1], a[i + 3], plus);
  const areaB = side(b[j], b[j + 2], plus) * side(b[j + 1], b[j + 3], plus);
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : union === 0 ? 0 : NaN;
}

/** An [N, M] matrix of f(box i of b1, box j of b2), both read as xyxy (f gets flat offsets). */
function pairwise(b1: Arr, b2: Arr, format: BoxFormat, f: (a: Float64Array, p: number, b: Float64Array, q: number) => number): Arr {
  checkBoxes(b1, 'boxes1');
  checkBoxes(b2, 'boxes2');
  const a = boxesXyxy(b1, format);
  const b = boxesXyxy(b2, format);
  const [N, M] = [b1.shape[0], b2.shape[0]];
  const out = new Float64Array(N * M);
  for (let i = 0; i < N; i++) for (let j = 0; j < M; j++) out[i * M + j] = f(a, 4 * i, b, 4 * j);
  return fromData(out, [N, M]);
}

/** Pairwise IoU [N, M]. */
export function boxIouRef(b1: Arr, b2: Arr, f: BoxFormat, pixelInclusive: boolean): Arr {
  return pairwise(b1, b2, f, (a, p, b, q) => iouPair(a, p, b, q, pixelInclusive ? 1 : 0));
}

/**
 * Generalised IoU [N, M]: GIoU = IoU − (C − U)/C, C the area of the smallest box enclosing both,
 * U the union. When C = 0 (both boxes are the same point or line) GIoU = IoU = 0.
 */
export function generalizedBoxIouRef(b1: Arr, b2: Arr, f: BoxFormat): Arr {
  return pairwise(b1, b2, f, (a, p, b, q) => {
    const iou = iouPair(a, p, b, q, 0);
    const inter = side(Math.max(a[p], b[q]), Math.min(a[p + 2], b[q + 2]), 0) * side(Math.max(a[p + 1], b[q + 1]), Math.min(a[p + 3], b[q + 3]), 0);
    const union = side(a[p], a[p + 2], 0) * side(a[p + 1], a[p + 3], 0) + side(b[q], b[q + 2], 0) * side(b[q + 1], b[q + 3], 0) - inter;
    const hull = side(Math.min(a[p], b[q]), Math.max(a[p + 2], b[q + 2]), 0) * side(Math.min(a[p + 1], b[q + 1]), Math.max(a[p + 3], b[q + 3]), 0);
    return hull > 0 ? iou - (hull - union) / hull : iou;
  });
}

export interface NmsOptions {
  iouThreshold: number;
  boxFormat: BoxFormat;
  scoreThreshold?: number;
  maxOutput?: number;
  pixelInclusive: boolean;
}

function checkScores(scores: Arr, N: number, name = 'scores'): Float64Array {
  if (scores.shape.length !== 1 || scores.shape[0] !== N) throw invalidInputs(`/inputs/${name}/shape`, `${name} must have shape [${N}] (one per box), got ${shapeString(scores.shape)}`);
  const s = flat(scores);
  s.forEach((v, i) => {
    if (Number.isNaN(v)) throw invalidInputs(`/inputs/${name}/data/${i}`, `score ${i} is NaN`);
  });
  return s;
}

/**
 * Greedy NMS. Candidates (score > scoreThreshold when one is given) in order of decreasing score,
 * equal scores by lower index; each box is kept unless its IoU with an already kept box is
 * strictly greater than iouThreshold. Returns the kept indices in that order, at most maxOutput.
 */
export function nmsRef(boxes: Arr, scores: Arr, o: NmsOptions, subset?: number[], scan: NmsScan = greedyScan): number[] {
  checkBoxes(boxes, 'boxes');
  const N = boxes.shape[0];
  const s = checkScores(scores, N);
  const b = boxesXyxy(boxes, o.boxFormat);
  let order = (subset ?? Array.from({ length: N }, (_, i) => i)).filter((i) => o.scoreThreshold === undefined || s[i] > o.scoreThreshold);
  order = order.sort((i, j) => s[j] - s[i] || i - j);
  return scan(b, order, o);
}

/** The greedy pass of NMS over candidates in order (xyxy boxes b); the simd backend has its own. */
export type NmsScan = (b: Float64Array, order: number[], o: NmsOptions) => number[];

/** A candidate is kept unless its IoU with a kept box exceeds the threshold; at most maxOutput kept. */
export function greedyScan(b: Float64Array, order: number[], o: NmsOptions): number[] {
  const keep: number[] = [];
  const plus = o.pixelInclusive ? 1 : 0;
  for (const i of order) {
    if (o.maxOutput !== undefined && keep.length >= o.maxOutput) break;
    if (keep.every((k) => !(iouPair(b, 4 * k, b, 4 * i, plus) > o.iouThreshold))) keep.push(i);
  }
  return keep;
}

/**
 * Class-aware NMS: NMS within each class separately (never the coordinate-offset trick, so
 * negative coordinates work), then all kept boxes by decreasing score, equal scores by lower index.
 */
export function batchedNmsRef(boxes: Arr, scores: Arr, classes: Arr, o: NmsOptions, scan: NmsScan = greedyScan): number[] {
  checkBoxes(boxes, 'boxes');
  const N = boxes.shape[0];
  const s = checkScores(scores, N);
  if (classes.shape.length !== 1 || classes.shape[0] !== N) throw invalidInputs('/inputs/classes/shape', `classes must have shape [${N}], got ${shapeString(classes.shape)}`);
  const cls = flat(classes);
  const byClass = new Map<number, number[]>();
  cls.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]));
  const kept: number[] = [];
  for (const members of byClass.values()) kept.push(...nmsRef(boxes, scores, { ...o, maxOutput: undefined }, members, scan));
  kept.sort((i, j) => s[j] - s[i] || i - j);
  return o.maxOutput !== undefined ? kept.slice(0, o.maxOutput) : kept;
}

/** C's round(): half away from zero (JavaScript's Math.round goes half toward +∞). */
export const roundHalfAway = (v: number): number => Math.sign(v) * Math.round(Math.abs(v));

const FLT_MAX = 3.4028234663852886e38;

/** Checks RoIs [K, 5] against x and returns each RoI's batch index (named errors). */
export function checkRois(x: Arr, rois: Arr): { N: number; batch: number[] } {
  checkBoxes(rois, 'boxes', 5);
  const r = flat(rois);
  const N = x.shape[0];
  const batch: number[] = [];
  for (let k = 0; k < rois.shape[0]; k++) {
    const bi = Math.trunc(r[5 * k]);
    if (!(bi >= 0 && bi < N)) throw invalidInputs(`/inputs/boxes/data/${5 * k}`, `box ${k} names batch index ${r[5 * k]}, but x has N = ${N}`);
    batch.push(bi);
  }
  return { N, batch };
}

/**
 * RoI max pooling (torchvision roi_pool, Fast R-CNN). For RoI (b, x1, y1, x2, y2):
 *   start = round(x1·scale), end = round(x2·scale)  (round half away from zero)
 *   roi_w = max(end_w − start_w + 1, 1), bin_w = roi_w / pw   (likewise h; the legacy +1)
 *   bin (i, j): rows ⌊i·bin_h⌋ + start_h … ⌈(i+1)·bin_h⌉ + start_h (exclusive), clipped to [0, H]
 *   y = max over the bin (from −FLT_MAX, strict >: first max wins, NaN never chosen); empty bin → 0
 */
export function roiPoolRef(x: Arr, rois: Arr, ph: number, pw: number, scale: number): { y: Arr; argmax: Arr } {
  const [, C, H, W] = x.shape;
  const { batch } = checkRois(x, rois);
  const K = rois.shape[0];
  const r = flat(rois);
  const xd = flat(x);
  const y = new Float64Array(K * C * ph * pw);
  const arg = new Float64Array(y.length);
  for (let k = 0; k < K; k++) {
    const sw = roundHalfAway(r[5 * k + 1] * scale);
    const sh = roundHalfAway(r[5 * k + 2] * scale);
    const ew = roundHalfAway(r[5 * k + 3] * scale);
    const eh = roundHalfAway(r[5 * k + 4] * scale);
    const rw = Math.max(ew - sw + 1, 1);
    const rh = Math.max(eh - sh + 1, 1);
    const bh = rh / ph;
    const bw = rw / pw;
    for (let c = 0; c < C; c++) {
      const base = (batch[k] * C + c) * H * W;
      for (let i = 0; i < ph; i++)
        for (let j = 0; j < pw; j++) {
          const h0 = Math.min(Math.max(Math.floor(i * bh) + sh, 0), H);
          const h1 = Math.min(Math.max(Math.ceil((i + 1) * bh) + sh, 0), H);
          const w0 = Math.min(Math.max(Math.floor(j * bw) + sw, 0), W);
          const w1 = Math.min(Math.max(Math.ceil((j + 1) * bw) + sw, 0), W);
          const t = ((k * C + c) * ph + i) * pw + j;
          if (h1 <= h0 || w1 <= w0) {
            y[t] = 0;
            arg[t] = -1;
            continue;
          }
          let m = -FLT_MAX;
          let a = -1;
          for (let h = h0; h < h1; h++)
            for (let w = w0; w < w1; w++) {
              const v = xd[base + h * W + w];
              if (v > m) {
                m = v;
                a = h * W + w;
              }
            }
          y[t] = m;
          arg[t] = a;
        }
    }
  }
  return { y: fromData(y, [K, C, ph, pw]), argmax: fromData(arg, [K, C, ph, pw]) };
}

export interface RoiAlignOptions {
  ph: number;
  pw: number;
  spatialScale: number;
  samplingRatio: number;
  aligned: boolean;
}

/**
 * One axis of a bilinear sample of torchvision's RoIAlign at v on an axis of length L: the two
 * cells and their weights (h for lo, l for hi), or null outside [−1, L] (NaN too). Clamping as
 * torchvision: v ≤ 0 reads cell 0, v past the last cell reads the last cell only.
 */
export function bilinearAxis(L: number, v: number): { lo: number; hi: number; h: number; l: number } | null {
  if (!(v >= -1 && v <= L)) return null;
  let p = v <= 0 ? 0 : v;
  let lo = Math.trunc(p);
  let hi: number;
  if (lo >= L - 1) {
    hi = lo = L - 1;
    p = lo;
  } else hi = lo + 1;
  const l = p - lo;
  return { lo, hi, h: 1 - l, l };
}

/** One bilinear sample of torchvision's RoIAlign: the four corner indices and weights (none outside). */
export function bilinearSample(H: number, W: number, yy: number, xx: number): { idx: number[]; w: number[] } | null {
  const a = bilinearAxis(H, yy);
  const b = bilinearAxis(W, xx);
  if (!a || !b) return null;
  return { idx: [a.lo * W + b.lo, a.lo * W + b.hi, a.hi * W + b.lo, a.hi * W + b.hi], w: [a.h * b.h, a.h * b.l, a.l * b.h, a.l * b.l] };
}

/** The sample grid of one RoI bin, as torchvision's CPU kernel: sample centres and the divisor. */
export function roiAlignGrid(r: ArrayLike<number>, k: number, o: RoiAlignOptions): { startH: number; startW: number; binH: number; binW: number; gridH: number; gridW: number; count: number } {
  const off = o.aligned ? 0.5 : 0;
  const startW = r[5 * k + 1] * o.spatialScale - off;
  const startH = r[5 * k + 2] * o.spatialScale - off;
  let roiW = r[5 * k + 3] * o.spatialScale - off - startW;
  let roiH = r[5 * k + 4] * o.spatialScale - off - startH;
  if (!o.aligned) {
    roiW = Math.max(roiW, 1);
    roiH = Math.max(roiH, 1);
  }
  const binH = roiH / o.ph;
  const binW = roiW / o.pw;
  const gridH = o.samplingRatio > 0 ? o.samplingRatio : Math.ceil(roiH / o.ph);
  const gridW = o.samplingRatio > 0 ? o.samplingRatio : Math.ceil(roiW / o.pw);
  return { startH, startW, binH, binW, gridH, gridW, count: Math.max(gridH * gridW, 1) };
}

/**
 * RoIAlign (torchvision CPU kernel, avg mode). For bin (i, j) of RoI k, the samples are
 *   y = start_h + i·bin_h + (iy + ½)·bin_h/grid_h,  x likewise,  iy < grid_h, ix < grid_w
 * with start = x1·scale − (aligned ? ½ : 0), roi size clamped to ≥ 1 unless aligned, grid =
 * samplingRatio or ⌈roi/pooled⌉ (adaptive). Each sample is bilinear with the clamping rules
 * (outside [−1, H] × [−1, W] it is 0 but still counted), and
 *   y = Σ samples / max(grid_h·grid_w, 1)   (the sum exact, divided once).
 */
export function roiAlignRef(x: Arr, rois: Arr, o: RoiAlignOptions): Arr {
  const [, C, H, W] = x.shape;
  const { batch } = checkRois(x, rois);
  const K = rois.shape[0];
  const r = flat(rois);
  const xd = flat(x);
  const y = new Float64Array(K * C * o.ph * o.pw);
  const acc = new ExactSum();
  for (let k = 0; k < K; k++) {
    const g = roiAlignGrid(r, k, o);
    for (let c = 0; c < C; c++) {
      const base = (batch[k] * C + c) * H * W;
      for (let i = 0; i < o.ph; i++)
        for (let j = 0; j < o.pw; j++) {
          acc.reset();
          for (let iy = 0; iy < g.gridH; iy++) {
            const yy = g.startH + i * g.binH + ((iy + 0.5) * g.binH) / g.gridH;
            for (let ix = 0; ix < g.gridW; ix++) {
              const xx = g.startW + j * g.binW + ((ix + 0.5) * g.binW) / g.gridW;
              const s = bilinearSample(H, W, yy, xx);
              if (!s) continue;
              for (let q = 0; q < 4; q++) acc.addProduct(s.w[q], xd[base + s.idx[q]]);
            }
          }
          y[((k * C + c) * o.ph + i) * o.pw + j] = acc.value() / g.count;
        }
    }
  }
  return fromData(y, [K, C, o.ph, o.pw]);
}
