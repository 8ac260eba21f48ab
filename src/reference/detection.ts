/**
 * Exact reference: box formats, IoU / generalised IoU, NMS, RoI pooling and RoI align, with
 * torchvision's semantics (CPU kernels) computed in float64.
 */
import { ExactSum } from '../exact.js';
import * as R from '../rational.js';
import type { Q } from '../rational.js';
import { invalidInputs } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData, shapeString } from '../tensor.js';
import { checkDy, flat, ScatterSum } from './common.js';

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
  /** Exact xyxy boxes, set by nmsRef when the format conversion rounds (xywh, cxcywh). */
  exactBoxes?: QBox[];
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
  const exactBoxes = o.boxFormat === 'xywh' || o.boxFormat === 'cxcywh' ? boxesXyxyExact(boxes, o.boxFormat) : undefined;
  return scan(b, order, exactBoxes ? { ...o, exactBoxes } : o);
}

/** The greedy pass of NMS over candidates in order (xyxy boxes b); the simd backend has its own. */
export type NmsScan = (b: Float64Array, order: number[], o: NmsOptions) => number[];

/** A candidate is kept unless its IoU with a kept box exceeds the threshold; at most maxOutput kept. */
export function greedyScan(b: Float64Array, order: number[], o: NmsOptions): number[] {
  const keep: number[] = [];
  const plus = o.pixelInclusive ? 1 : 0;
  for (const i of order) {
    if (o.maxOutput !== undefined && keep.length >= o.maxOutput) break;
    if (keep.every((k) => !iouExceeds(b, k, i, plus, o.iouThreshold, o.exactBoxes))) keep.push(i);
  }
  return keep;
}

/** One box as exact rationals [x1, y1, x2, y2], or null when a coordinate is not finite. */
export type QBox = [Q, Q, Q, Q] | null;

/** The boxes in xyxy as exact rationals: the format conversion (a − w/2, a + w, …) done exactly. */
export function boxesXyxyExact(a: Arr, f: BoxFormat): QBox[] {
  const d = flat(a);
  const out: QBox[] = [];
  const half = { n: 1n, d: 2n };
  for (let i = 0; i < d.length; i += 4) {
    if (![0, 1, 2, 3].every((t) => Number.isFinite(d[i + t]))) {
      out.push(null);
      continue;
    }
    const [a0, c, e, g] = [R.q(d[i]), R.q(d[i + 1]), R.q(d[i + 2]), R.q(d[i + 3])];
    switch (f) {
      case 'xyxy':
        out.push([a0, c, e, g]);
        break;
      case 'xywh':
        out.push([a0, c, R.add(a0, e), R.add(c, g)]);
        break;
      case 'cxcywh':
        out.push([R.sub(a0, R.mul(e, half)), R.sub(c, R.mul(g, half)), R.add(a0, R.mul(e, half)), R.add(c, R.mul(g, half))]);
        break;
      case 'yxyx':
        out.push([c, a0, g, e]);
        break;
    }
  }
  return out;
}

const ZERO = R.int(0);
const sideQ = (lo: Q, hi: Q, plus: number): Q => R.max(R.add(R.sub(hi, lo), R.int(plus)), ZERO);

/** The exact IoU of two finite boxes (0 when the union is empty), as the float iouPair defines it. */
export function iouExact(a: [Q, Q, Q, Q], b: [Q, Q, Q, Q], plus: number): Q {
  const inter = R.mul(sideQ(R.max(a[0], b[0]), R.min(a[2], b[2]), plus), sideQ(R.max(a[1], b[1]), R.min(a[3], b[3]), plus));
  const areaA = R.mul(sideQ(a[0], a[2], plus), sideQ(a[1], a[3], plus));
  const areaB = R.mul(sideQ(b[0], b[2], plus), sideQ(b[1], b[3], plus));
  const union = R.sub(R.add(areaA, areaB), inter);
  return union.n === 0n ? ZERO : R.div(inter, union);
}

/**
 * Does box k suppress box i: IoU > threshold, decided on exact values. The float64 IoU (boxes as
 * given, xyxy) has an error of at most ~20u·IoU ≤ 3·10⁻¹⁵ (one rounding per side, product, sum and
 * quotient; IoU ≤ 1, union ≥ inter ≥ 0), so when it is more than 10⁻¹² away from the threshold
 * the float decision is the exact one; otherwise (and whenever the format conversion rounded, i.e.
 * `exact` boxes are given, or an area overflowed) the IoU is compared in rationals. Non-finite
 * coordinates keep the IEEE result (a NaN IoU suppresses nothing). The threshold stands for the
 * simplest rational that rounds to it (R.intended: 0.6 is 3/5, 1/3 is 1/3, not the doubles just
 * below), so an IoU of exactly 3/5 at threshold 0.6 is kept, as float64 and float32 (0.6f > 3/5)
 * both keep it.
 */
export function iouExceeds(b: Float64Array, k: number, i: number, plus: number, t: number, exact?: QBox[]): boolean {
  const f = iouPair(b, 4 * k, b, 4 * i, plus);
  if (!exact && Number.isFinite(f) && Math.abs(f - t) > 1e-12) return f > t;
  const A = exact ? exact[k] : finiteBox(b, 4 * k);
  const B = exact ? exact[i] : finiteBox(b, 4 * i);
  if (!A || !B || !Number.isFinite(t)) return f > t;
  return R.cmp(iouExact(A, B, plus), R.intended(t)) > 0;
}

function finiteBox(b: Float64Array, o: number): QBox {
  for (let t = 0; t < 4; t++) if (!Number.isFinite(b[o + t])) return null;
  return [R.q(b[o]), R.q(b[o + 1]), R.q(b[o + 2]), R.q(b[o + 3])];
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
 * round(v·scale), half away from zero, of the exact product (a product within rounding of a .5
 * is rounded by its exact value, not by the float64 product). Params stand for the simplest rational
 * that rounds to them (R.intended: spatialScale 0.3 is 3/10), tensor elements for their exact
 * doubles, so
 * −25 · 0.3 is −7.5 and rounds to −8 (the double 0.3 would give −7.49999…, −7). Non-finite: the
 * IEEE path.
 */
export function roundScaled(v: number, scale: number): number {
  if (!Number.isFinite(v * scale) || !Number.isFinite(v) || !Number.isFinite(scale)) return roundHalfAway(v * scale);
  return Number(R.roundHalfAway(R.mul(R.q(v), R.intended(scale))));
}

/**
 * ⌊i·size/pooled⌋ or ⌈i·size/pooled⌉ for integers (size ≥ 1): integer division, so a bin edge that is
 * an exact integer is never moved by rounding the quotient size/pooled first (torchvision computes
 * ⌊i·fl(size/pooled)⌋). Sizes past 2⁵³ (absurd coordinates) keep the float formula.
 */
export function binEdge(i: number, size: number, pooled: number, dir: 'floor' | 'ceil'): number {
  const a = i * size;
  if (!Number.isSafeInteger(a + pooled)) return dir === 'floor' ? Math.floor(i * (size / pooled)) : Math.ceil(i * (size / pooled));
  const f = (a - (a % pooled)) / pooled;
  return dir === 'floor' || a % pooled === 0 ? f : f + 1;
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
    const sw = roundScaled(r[5 * k + 1], scale);
    const sh = roundScaled(r[5 * k + 2], scale);
    const ew = roundScaled(r[5 * k + 3], scale);
    const eh = roundScaled(r[5 * k + 4], scale);
    const rw = Math.max(ew - sw + 1, 1);
    const rh = Math.max(eh - sh + 1, 1);
    for (let c = 0; c < C; c++) {
      const base = (batch[k] * C + c) * H * W;
      for (let i = 0; i < ph; i++)
        for (let j = 0; j < pw; j++) {
          const h0 = Math.min(Math.max(binEdge(i, rh, ph, 'floor') + sh, 0), H);
          const h1 = Math.min(Math.max(binEdge(i + 1, rh, ph, 'ceil') + sh, 0), H);
          const w0 = Math.min(Math.max(binEdge(j, rw, pw, 'floor') + sw, 0), W);
          const w1 = Math.min(Math.max(binEdge(j + 1, rw, pw, 'ceil') + sw, 0), W);
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

/** The sample grid of one RoI bin, as torchvision's CPU kernel: sample centres and the divisor (float64). */
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

export type Axis = { lo: number; hi: number; h: number; l: number } | null;

/**
 * bilinearAxis on the exact sample coordinate v: inclusion in [−1, L], the clamp at 0, the cell
 * ⌊v⌋ and the clamp at the last cell are decided on v exactly; the weight l = v − ⌊v⌋ is the
 * correctly rounded double of the exact fraction.
 */
export function bilinearAxisExact(L: number, v: Q): Axis {
  if (R.cmp(v, R.int(-1)) < 0 || R.cmp(v, R.int(L)) > 0) return null;
  const p = v.n <= 0n ? ZERO : v;
  const lo = R.floor(p);
  if (lo >= BigInt(L - 1)) return { lo: L - 1, hi: L - 1, h: 1, l: 0 };
  const l = R.toDouble(R.sub(p, { n: lo, d: 1n }));
  return { lo: Number(lo), hi: Number(lo) + 1, h: 1 - l, l };
}

/**
 * The samples of every bin of RoI k, one axis at a time: ys[i][iy] and xs[j][ix] (null outside the
 * map), and the divisor. Positions are exact rationals,
 *   start = x1·scale − (aligned ? ½ : 0),  roi = max(x2·scale − off − start, 1 unless aligned),
 *   bin = roi/pooled,  grid = samplingRatio or ⌈roi/pooled⌉,  v = start + i·bin + (iy + ½)·bin/grid,
 * so a sample at exactly −1, 0, L − 1 or L is treated as such (float64 may put it at −1 − 2⁻⁵²).
 * Non-finite coordinates take the float64 path (bilinearAxis).
 */
export function roiAlignAxes(r: ArrayLike<number>, k: number, o: RoiAlignOptions, H: number, W: number): { ys: Axis[][]; xs: Axis[][]; gridH: number; gridW: number; count: number } {
  const coords = [1, 2, 3, 4].map((t) => r[5 * k + t]);
  if (!coords.every(Number.isFinite) || !Number.isFinite(o.spatialScale)) {
    const g = roiAlignGrid(r, k, o);
    const axes = (L: number, start: number, bin: number, grid: number, pooled: number) =>
      Array.from({ length: pooled }, (_, b) => Array.from({ length: grid }, (_, s) => bilinearAxis(L, start + b * bin + ((s + 0.5) * bin) / grid)));
    return { ys: axes(H, g.startH, g.binH, g.gridH, o.ph), xs: axes(W, g.startW, g.binW, g.gridW, o.pw), gridH: g.gridH, gridW: g.gridW, count: g.count };
  }
  const scale = R.intended(o.spatialScale); // params as written (see roundScaled)
  const off = o.aligned ? { n: 1n, d: 2n } : ZERO;
  const [x1, y1, x2, y2] = coords.map((c) => R.sub(R.mul(R.q(c), scale), off));
  const axis = (L: number, start: Q, end: Q, pooled: number) => {
    let roi = R.sub(end, start);
    if (!o.aligned) roi = R.max(roi, R.int(1));
    const bin = R.div(roi, R.int(pooled));
    const grid = o.samplingRatio > 0 ? o.samplingRatio : Number(R.ceil(bin));
    const out: Axis[][] = [];
    for (let b = 0; b < pooled; b++) {
      const row: Axis[] = [];
      const base = R.add(start, R.mul(R.int(b), bin));
      for (let s = 0; s < grid; s++) row.push(bilinearAxisExact(L, R.add(base, R.div(R.mul({ n: BigInt(2 * s + 1), d: 2n }, bin), R.int(grid)))));
      out.push(row);
    }
    return { out, grid };
  };
  const ya = axis(H, y1, y2, o.ph);
  const xa = axis(W, x1, x2, o.pw);
  return { ys: ya.out, xs: xa.out, gridH: ya.grid, gridW: xa.grid, count: Math.max(ya.grid * xa.grid, 1) };
}

/**
 * Σ over a bin's samples (ys × xs, a null sample outside the map) of the bilinear weights times
 * the plane's pixels (the plane starts at `base`, rows of W), summed exactly in `acc`.
 */
export function binSum(acc: ExactSum, ys: Axis[], xs: Axis[], xd: Float64Array, base: number, W: number): number {
  acc.reset();
  for (const a of ys) {
    if (!a) continue;
    for (const b of xs) {
      if (!b) continue;
      acc.addProduct(a.h * b.h, xd[base + a.lo * W + b.lo]);
      acc.addProduct(a.h * b.l, xd[base + a.lo * W + b.hi]);
      acc.addProduct(a.l * b.h, xd[base + a.hi * W + b.lo]);
      acc.addProduct(a.l * b.l, xd[base + a.hi * W + b.hi]);
    }
  }
  return acc.value();
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
    const g = roiAlignAxes(r, k, o, H, W);
    for (let c = 0; c < C; c++) {
      const base = (batch[k] * C + c) * H * W;
      for (let i = 0; i < o.ph; i++)
        for (let j = 0; j < o.pw; j++) {
          y[((k * C + c) * o.ph + i) * o.pw + j] = binSum(acc, g.ys[i], g.xs[j], xd, base, W) / g.count;
        }
    }
  }
  return fromData(y, [K, C, o.ph, o.pw]);
}

/**
 * Set-valued NMS at a judged precision with unit roundoff u (2⁻²⁴ float32, 2⁻⁵³ float64).
 *
 * A pair's decision "IoU > threshold" is ambiguous when the exact IoU lies within
 *   band = u · (40 + 16·M/s) · max(IoU, |t|)
 * of the exact threshold: 40u covers rounding the threshold, the sides, areas, union and quotient
 * (each a few u relative, IoU ≤ 1, union ≥ inter); 16u·M/s the rounding of coordinates of size up
 * to M (the largest |coordinate| of the two boxes) relative to the smallest positive side s.
 * An implementation rounding that pair either way is correct, so the greedy pass branches there:
 * every keep set reachable by flipping ambiguous decisions is admissible. The branching is bounded
 * at `limit` keep sets (64); past it, the remaining ambiguous decisions take their exact outcome
 * and `bounded` says so. Returns the keep sets (the exact one first) and a description of each
 * ambiguous pair.
 */
export function nmsKeepSets(boxes: Arr, scores: Arr, o: NmsOptions, u: number, subset?: number[], limit = 64): { sets: number[][]; ambiguous: string[]; bounded: boolean } {
  checkBoxes(boxes, 'boxes');
  const N = boxes.shape[0];
  const s = checkScores(scores, N);
  const b = boxesXyxy(boxes, o.boxFormat);
  const ex = boxesXyxyExact(boxes, o.boxFormat);
  const plus = o.pixelInclusive ? 1 : 0;
  const order = (subset ?? Array.from({ length: N }, (_, i) => i)).filter((i) => o.scoreThreshold === undefined || s[i] > o.scoreThreshold).sort((i, j) => s[j] - s[i] || i - j);
  const tQ = Number.isFinite(o.iouThreshold) ? R.intended(o.iouThreshold) : null;
  const ambiguous: string[] = [];
  const memo = new Map<number, 'yes' | 'no' | 'maybe'>();
  const decide = (k: number, i: number): 'yes' | 'no' | 'maybe' => {
    const key = k * N + i;
    const known = memo.get(key);
    if (known) return known;
    const exact = iouExceeds(b, k, i, plus, o.iouThreshold, o.boxFormat === 'xywh' || o.boxFormat === 'cxcywh' ? ex : undefined);
    let r: 'yes' | 'no' | 'maybe' = exact ? 'yes' : 'no';
    const A = ex[k];
    const B = ex[i];
    const exactly = A && B && tQ ? exactAtPrecision(b, k, i, plus, u, o.boxFormat) : undefined;
    if (exactly) {
      // intermediates exact at this precision: the IoU is fl(IoU), compared with t as a double or rounded to the precision
      const fr = u === 2 ** -24 ? Math.fround : (x: number) => x;
      const v = fr(R.toDouble(iouExact(A!, B!, plus)));
      const outcomes = new Set([exact, v > o.iouThreshold, v > fr(o.iouThreshold)]);
      if (outcomes.size > 1) {
        r = 'maybe';
        ambiguous.push(`boxes ${k} and ${i}: IoU ${R.toDouble(iouExact(A!, B!, plus))} rounds to ${v}, which a correct implementation may compare with the threshold ${o.iouThreshold} as a double (${v > o.iouThreshold ? 'suppressed' : 'kept'}) or rounded (${v > fr(o.iouThreshold) ? 'suppressed' : 'kept'}); exactly: ${exact ? 'suppressed' : 'kept'}`);
      }
    } else if (A && B && tQ) {
      const iou = iouExact(A, B, plus);
      const M = Math.max(...A.map((v) => Math.abs(R.toDouble(v))), ...B.map((v) => Math.abs(R.toDouble(v))));
      const sides = [R.sub(A[2], A[0]), R.sub(A[3], A[1]), R.sub(B[2], B[0]), R.sub(B[3], B[1])].map((v) => R.toDouble(v) + plus).filter((v) => v > 0);
      const sMin = sides.length ? Math.min(...sides) : 1;
      const iouD = R.toDouble(iou);
      const band = u * (40 + (16 * M) / sMin) * Math.max(iouD, Math.abs(o.iouThreshold));
      if (Math.abs(R.toDouble(R.sub(iou, tQ))) <= band) {
        r = 'maybe';
        ambiguous.push(`boxes ${k} and ${i}: IoU ${iouD} is within ${band.toPrecision(2)} of the threshold ${o.iouThreshold} (exactly: ${exact ? 'suppressed' : 'kept'})`);
      }
    }
    memo.set(key, r);
    return r;
  };
  const sets: number[][] = [];
  const seen = new Set<string>();
  let bounded = false;
  const walk = (pos: number, keep: number[], flip: boolean): void => {
    for (let p = pos; p < order.length; p++) {
      if (o.maxOutput !== undefined && keep.length >= o.maxOutput) break;
      const i = order[p];
      const ds = keep.map((k) => decide(k, i));
      if (ds.includes('yes')) continue;
      if (ds.includes('maybe') && flip) {
        if (sets.length + 1 >= limit) {
          bounded = true;
        } else {
          const exactKeep = keep.every((k) => !iouExceeds(b, k, i, plus, o.iouThreshold, o.boxFormat === 'xywh' || o.boxFormat === 'cxcywh' ? ex : undefined));
          // the other branch: the flipped outcome of this candidate
          if (exactKeep) walk(p + 1, keep.slice(), true);
          else walk(p + 1, [...keep, i], true);
          if (exactKeep) keep.push(i);
          continue;
        }
      }
      if (keep.every((k) => !iouExceeds(b, k, i, plus, o.iouThreshold, o.boxFormat === 'xywh' || o.boxFormat === 'cxcywh' ? ex : undefined))) keep.push(i);
    }
    const key = keep.join(',');
    if (!seen.has(key)) {
      seen.add(key);
      sets.push(keep);
    }
  };
  walk(0, [], true);
  // the exact keep set first
  const exactSet = nmsRef(boxes, scores, o, subset);
  const ek = exactSet.join(',');
  return { sets: [exactSet, ...sets.filter((x) => x.join(',') !== ek)], ambiguous, bounded };
}

/**
 * Whether every intermediate of the IoU of boxes k and i (coordinates, sides, areas, intersection,
 * union) is exact at unit roundoff u, so that any correct implementation gets the correctly
 * rounded IoU. xyxy/yxyx boxes only (the other formats' conversion may round).
 */
function exactAtPrecision(b: Float64Array, k: number, i: number, plus: number, u: number, f: BoxFormat): boolean {
  if (f !== 'xyxy' && f !== 'yxyx') return false;
  const fr = u === 2 ** -24 ? Math.fround : (x: number) => x;
  const c = [0, 1, 2, 3].flatMap((t) => [b[4 * k + t], b[4 * i + t]]);
  if (!c.every((x) => Number.isFinite(x) && fr(x) === x)) return false;
  const ok = (x: number, exact: Q) => Number.isFinite(x) && R.cmp(R.q(x), exact) === 0;
  const sideF = (lo: number, hi: number) => Math.max(fr(fr(hi - lo) + plus), 0);
  const A = finiteBox(b, 4 * k)!;
  const B = finiteBox(b, 4 * i)!;
  const pairs: [number, Q][] = [];
  const wI = sideF(Math.max(b[4 * k], b[4 * i]), Math.min(b[4 * k + 2], b[4 * i + 2]));
  const hI = sideF(Math.max(b[4 * k + 1], b[4 * i + 1]), Math.min(b[4 * k + 3], b[4 * i + 3]));
  const wA = sideF(b[4 * k], b[4 * k + 2]);
  const hA = sideF(b[4 * k + 1], b[4 * k + 3]);
  const wB = sideF(b[4 * i], b[4 * i + 2]);
  const hB = sideF(b[4 * i + 1], b[4 * i + 3]);
  pairs.push([wI, sideQ(R.max(A[0], B[0]), R.min(A[2], B[2]), plus)], [hI, sideQ(R.max(A[1], B[1]), R.min(A[3], B[3]), plus)]);
  pairs.push([wA, sideQ(A[0], A[2], plus)], [hA, sideQ(A[1], A[3], plus)], [wB, sideQ(B[0], B[2], plus)], [hB, sideQ(B[1], B[3], plus)]);
  const inter = fr(wI * hI);
  const aA = fr(wA * hA);
  const aB = fr(wB * hB);
  const exactInter = R.mul(pairs[0][1], pairs[1][1]);
  const exactA = R.mul(pairs[2][1], pairs[3][1]);
  const exactB = R.mul(pairs[4][1], pairs[5][1]);
  const union = fr(fr(aA + aB) - inter);
  pairs.push([inter, exactInter], [aA, exactA], [aB, exactB], [fr(aA + aB), R.add(exactA, exactB)], [union, R.sub(R.add(exactA, exactB), exactInter)]);
  return pairs.every(([x, e]) => ok(x, e));
}

/** batchedNms keep sets: the per-class keep sets combined (bounded at `limit`), merged by score. */
export function batchedNmsKeepSets(boxes: Arr, scores: Arr, classes: Arr, o: NmsOptions, u: number, limit = 64): { sets: number[][]; ambiguous: string[]; bounded: boolean } {
  const exact = batchedNmsRef(boxes, scores, classes, o);
  const s = flat(scores);
  const cls = flat(classes);
  const byClass = new Map<number, number[]>();
  cls.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]));
  let combos: number[][] = [[]];
  const ambiguous: string[] = [];
  let bounded = false;
  for (const members of byClass.values()) {
    const r = nmsKeepSets(boxes, scores, { ...o, maxOutput: undefined }, u, members, limit);
    ambiguous.push(...r.ambiguous);
    bounded ||= r.bounded;
    const next: number[][] = [];
    for (const c of combos) for (const k of r.sets) if (next.length < limit) next.push([...c, ...k]);
    if (combos.length * r.sets.length > limit) bounded = true;
    combos = next;
  }
  const sets = combos.map((k) => {
    const m = k.slice().sort((i, j) => s[j] - s[i] || i - j);
    return o.maxOutput !== undefined ? m.slice(0, o.maxOutput) : m;
  });
  const seen = new Set<string>([exact.join(',')]);
  const rest = sets.filter((k) => (seen.has(k.join(',')) ? false : (seen.add(k.join(',')), true)));
  return { sets: [exact, ...rest], ambiguous, bounded };
}

// ---- backward passes (the gradients of the ops above; see ops/backward.ts for how they are registered) ----

/** roiPool backward: each dy goes to its bin's argmax; empty bins send nothing. */
export function roiPoolBackwardRef(x: Arr, rois: Arr, dy: Arr, ph: number, pw: number, scale: number): Arr {
  const { y, argmax } = roiPoolRef(x, rois, ph, pw, scale);
  const g = checkDy(dy, y.shape);
  const [, C, H, W] = x.shape;
  const r = flat(rois);
  const a = flat(argmax);
  const dx = new ScatterSum(flat(x).length);
  const per = C * ph * pw;
  for (let t = 0; t < g.length; t++) {
    if (a[t] < 0) continue;
    const k = Math.floor(t / per);
    const c = Math.floor(t / (ph * pw)) % C;
    dx.add((Math.trunc(r[5 * k]) * C + c) * H * W + a[t], g[t]);
  }
  return fromData(dx.values(), x.shape);
}

/** roiAlign backward: each sample's four bilinear weights carry dy / count back to their pixels. */
export function roiAlignBackwardRef(x: Arr, rois: Arr, dy: Arr, o: RoiAlignOptions): Arr {
  const [, C, H, W] = x.shape;
  const K = rois.shape[0];
  const g = checkDy(dy, [K, C, o.ph, o.pw]);
  const r = flat(rois);
  const dx = new ScatterSum(flat(x).length);
  for (let k = 0; k < K; k++) {
    const grid = roiAlignAxes(r, k, o, H, W);
    const b = Math.trunc(r[5 * k]);
    for (let c = 0; c < C; c++) {
      const base = (b * C + c) * H * W;
      for (let i = 0; i < o.ph; i++)
        for (let j = 0; j < o.pw; j++) {
          const gy = g[((k * C + c) * o.ph + i) * o.pw + j] / grid.count;
          for (const ay of grid.ys[i]) {
            if (!ay) continue;
            for (const ax of grid.xs[j]) {
              if (!ax) continue;
              dx.addProduct(base + ay.lo * W + ax.lo, ay.h * ax.h, gy);
              dx.addProduct(base + ay.lo * W + ax.hi, ay.h * ax.l, gy);
              dx.addProduct(base + ay.hi * W + ax.lo, ay.l * ax.h, gy);
              dx.addProduct(base + ay.hi * W + ax.hi, ay.l * ax.l, gy);
            }
          }
        }
    }
  }
  return fromData(dx.values(), x.shape);
}
