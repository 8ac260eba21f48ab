/**
 * Decision boundaries of RoIAlign, RoIPool, max pooling and nearest upsampling (issue 13): the
 * outcomes a correct implementation at unit roundoff u (2⁻²⁴ float32, 2⁻⁵³ float64) may reach
 * where rounding can flip a discrete decision, as admissible blocks (src/judge/admissible.ts).
 *
 * Rule, for every decision: it is ambiguous when the exact quantity lies within a stated rounding
 * band of the boundary AND the float computation of torchvision / PyTorch's formula at that
 * precision (emulated with Math.fround for float32) is not exact at every step. When every step is
 * exact, any correct implementation gets the exact decision and no alternative is admitted (so a
 * sample exactly at −1 computed exactly must be kept, a bin edge exactly at an integer computed
 * exactly must not move). Variants are enumerated per block — one RoI, one pooling window, one
 * output pixel's source — fewest flips first, at most CAP per block; past it the remaining
 * ambiguous decisions take their exact outcome and the reason says so.
 */
import * as R from '../rational.js';
import type { Q } from '../rational.js';
import { ExactSum } from '../exact.js';
import type { Arr } from '../tensor.js';
import type { AdmissibleBlock } from '../registry.js';
import { flat } from './common.js';
import { bilinearAxisExact, binSum, roiAlignAxes, roundScaled, binEdge, type Axis, type RoiAlignOptions } from './detection.js';
import { poolShape, type PoolGeometry } from './pooling.js';
import { nearestIndex } from './resample.js';

/** Variants per block (per axis for RoIAlign: 8 × 8 = 64 per RoI). */
export const CAP = 64;
const AXIS_CAP = 8;

export interface Boundaries {
  blocks: AdmissibleBlock[];
  reasons: string[];
  capped: boolean;
}

const rounder = (u: number): ((x: number) => number) => (u === 2 ** -24 ? Math.fround : (x: number) => x);
const same = (x: number, e: Q): boolean => Number.isFinite(x) && R.cmp(R.q(x), e) === 0;
const fmt = (x: number) => String(Number(x.toPrecision(8)));

/**
 * What a variant's own error bound adds to the exact output's: γ_{terms+1}·(its Σ|w·x| beyond the
 * exact one's) + 2u·(its |y| beyond the exact one's), per element (the bounds are those of the op's
 * errorBound, which are computed on the exact decisions).
 */
export function slackOf(u: number, terms: number, magV: Float64Array, magE: Float64Array, yV: Float64Array, yE: Float64Array): Float64Array {
  const g = ((terms + 1) * u) / (1 - (terms + 1) * u);
  return magV.map((m, i) => g * Math.max(0, m - magE[i]) + 2 * u * Math.max(0, Math.abs(yV[i]) - Math.abs(yE[i])));
}

const absAll = (a: Float64Array): Float64Array => a.map(Math.abs);

/**
 * Choice vectors over decisions with counts[d] alternatives each (alternative 0 the exact one),
 * fewest non-exact choices first, at most `cap`: [0,…,0] first.
 */
export function enumerateChoices(counts: number[], cap: number): { choices: number[][]; capped: boolean } {
  const out: number[][] = [];
  const D = counts.length;
  const total = counts.reduce((a, c) => a * c, 1);
  const rec = (start: number, left: number, cur: number[]): boolean => {
    if (left === 0) {
      if (out.length >= cap) return false;
      out.push(cur.slice());
      return true;
    }
    for (let d = start; d < D; d++) {
      for (let a = 1; a < counts[d]; a++) {
        cur[d] = a;
        const more = rec(d + 1, left - 1, cur);
        cur[d] = 0;
        if (!more) return false;
      }
    }
    return true;
  };
  for (let k = 0; k <= D; k++) if (!rec(0, k, new Array<number>(D).fill(0))) break;
  return { choices: out, capped: out.length < total };
}

// ---------------------------------------------------------------------------------------------
// RoIAlign

interface AxisVariant {
  samples: Axis[][];
  grid: number;
}

/**
 * The admissible sample sets of one axis of RoI k. Exact: start = c₁·s − off, roi = max(c₂·s − off −
 * start, 1 unless aligned), bin = roi/pooled, grid = samplingRatio or ⌈bin⌉, v = start + b·bin +
 * (i + ½)·bin/grid. Ambiguous, unless torchvision's float formula is exact at every step:
 * - the adaptive grid, when bin is within 16u·M/pooled of an integer n (then n or n + 1);
 * - a sample's inclusion, when v is within 32u·M of −1 or of L (a sample is dropped when v < −1 or
 *   v > L; inside it reads the clamped border cell), M = max(|c₁·s|, |c₂·s|) + 1.
 * (The clamps at 0 and L − 1 and the cell ⌊v⌋ change the value continuously: the error bound
 * covers them.) 32u·M bounds the error of the coordinate formula: about 2u·M for start, 6u·M/pooled
 * for bin, times at most pooled + 1 bins, plus the last additions.
 */
function roiAlignAxis(L: number, c1: number, c2: number, scale: number, o: RoiAlignOptions, pooled: number, u: number, what: string): { variants: AxisVariant[]; reasons: string[]; capped: boolean } {
  const fr = rounder(u);
  const s = R.intended(scale);
  const offQ = o.aligned ? { n: 1n, d: 2n } : R.int(0);
  const off = o.aligned ? 0.5 : 0;
  const start = R.sub(R.mul(R.q(c1), s), offQ);
  const end = R.sub(R.mul(R.q(c2), s), offQ);
  let roi = R.sub(end, start);
  if (!o.aligned) roi = R.max(roi, R.int(1));
  const bin = R.div(roi, R.int(pooled));
  // torchvision's float formula at this precision
  const fs = fr(scale);
  const st = fr(fr(fr(c1) * fs) - off);
  const en = fr(fr(fr(c2) * fs) - off);
  let rf = fr(en - st);
  if (!o.aligned) rf = Math.max(rf, 1);
  const bf = fr(rf / pooled);
  const exactRoi = same(st, start) && same(bf, bin);
  const M = Math.max(Math.abs(c1 * scale), Math.abs(c2 * scale)) + 1;
  const reasons: string[] = [];
  const g0 = o.samplingRatio > 0 ? o.samplingRatio : Number(R.ceil(bin));
  const grids = [g0];
  if (o.samplingRatio <= 0 && !exactRoi) {
    const bd = R.toDouble(bin);
    const n = Math.round(bd);
    const band = (16 * u * M) / pooled;
    if (n >= 0 && Math.abs(R.toDouble(R.sub(bin, R.int(n)))) <= band) {
      const other = g0 === n ? n + 1 : n;
      grids.push(other);
      reasons.push(`${what}: roi/pooled = ${fmt(bd)} is within ${band.toPrecision(2)} of ${n}, so the adaptive grid ⌈roi/pooled⌉ may be ${g0} or ${other}`);
    }
  }
  const variants: AxisVariant[] = [];
  let capped = false;
  for (const grid of grids) {
    const exactSamples: Axis[][] = [];
    const flips: { b: number; i: number; alt: Axis; v: number }[] = [];
    for (let b = 0; b < pooled; b++) {
      const row: Axis[] = [];
      const base = R.add(start, R.mul(R.int(b), bin));
      for (let i = 0; i < Math.max(grid, 0); i++) {
        const v = R.add(base, R.div(R.mul({ n: BigInt(2 * i + 1), d: 2n }, bin), R.int(grid)));
        const a = bilinearAxisExact(L, v);
        row.push(a);
        const fv = fr(fr(st + fr(b * bf)) + fr(fr((i + 0.5) * bf) / grid));
        if (grid === g0 && exactRoi && same(fv, v)) continue;
        const band = 32 * u * M;
        const vd = R.toDouble(v);
        const nearLo = Math.abs(R.toDouble(R.sub(v, R.int(-1)))) <= band;
        const nearHi = Math.abs(R.toDouble(R.sub(v, R.int(L)))) <= band;
        if (nearLo || nearHi) flips.push({ b, i, alt: a ? null : bilinearAxisExact(L, R.int(nearLo ? -1 : L)), v: vd });
      }
      exactSamples.push(row);
    }
    for (const f of flips) {
      reasons.push(`${what}: sample ${f.i} of bin ${f.b} at ${fmt(f.v)} is within rounding of the border ${Math.abs(f.v + 1) < Math.abs(f.v - L) ? -1 : L}${grids.length > 1 ? ` (grid ${grid})` : ''}, so it may be ${exactSamples[f.b][f.i] ? 'dropped' : 'kept'}`);
    }
    const e = enumerateChoices(flips.map(() => 2), Math.max(1, AXIS_CAP - variants.length));
    capped ||= e.capped;
    for (const ch of e.choices) {
      const samples = exactSamples.map((r) => r.slice());
      ch.forEach((c, d) => {
        if (c) samples[flips[d].b][flips[d].i] = flips[d].alt;
      });
      variants.push({ samples, grid });
    }
    if (variants.length >= AXIS_CAP) {
      capped ||= grids.indexOf(grid) < grids.length - 1;
      break;
    }
  }
  return { variants, reasons, capped };
}

/** The bins of RoI k of roiAlign for one choice of samples per axis: [C, ph, pw] values. */
function roiAlignBins(xd: Float64Array, base0: number, C: number, H: number, W: number, ys: AxisVariant, xs: AxisVariant, ph: number, pw: number): Float64Array {
  const out = new Float64Array(C * ph * pw);
  const count = Math.max(ys.grid * xs.grid, 1);
  const acc = new ExactSum();
  for (let c = 0; c < C; c++) {
    const base = base0 + c * H * W;
    for (let i = 0; i < ph; i++)
      for (let j = 0; j < pw; j++) {
        out[(c * ph + i) * pw + j] = binSum(acc, ys.samples[i], xs.samples[j], xd, base, W) / count;
      }
  }
  return out;
}

/**
 * The part of roiAlign's error bound that comes from rounding the sample coordinates: a sample's
 * value Σ w·x moves by at most 2·max|x| (over its four cells) per unit of coordinate, and each
 * coordinate is off by at most 32u·M (see roiAlignAxis), so per output element
 *   (1/count) · Σ_samples 2·max|x|·(32u·M_y + 32u·M_x).
 * dotBound covers the rounding of the products and sums, not this: a weight l = v − ⌊v⌋ of 10⁻¹⁷
 * that float32 computes as 0 is an absolute error, not a relative one.
 */
export function roiAlignCoordinateBound(x: Arr, rois: Arr, o: RoiAlignOptions, batch: number[], u: number): Float64Array {
  const [, C, H, W] = x.shape;
  const r = flat(rois);
  const xd = flat(x);
  const out = new Float64Array(rois.shape[0] * C * o.ph * o.pw);
  for (let k = 0; k < rois.shape[0]; k++) {
    const g = roiAlignAxes(r, k, o, H, W);
    const dy = 32 * u * (Math.max(Math.abs(r[5 * k + 2] * o.spatialScale), Math.abs(r[5 * k + 4] * o.spatialScale)) + 1);
    const dx = 32 * u * (Math.max(Math.abs(r[5 * k + 1] * o.spatialScale), Math.abs(r[5 * k + 3] * o.spatialScale)) + 1);
    for (let c = 0; c < C; c++) {
      const base = (batch[k] * C + c) * H * W;
      for (let i = 0; i < o.ph; i++)
        for (let j = 0; j < o.pw; j++) {
          let s = 0;
          for (const a of g.ys[i]) {
            if (!a) continue;
            for (const b of g.xs[j]) {
              if (!b) continue;
              const m = Math.max(Math.abs(xd[base + a.lo * W + b.lo]), Math.abs(xd[base + a.lo * W + b.hi]), Math.abs(xd[base + a.hi * W + b.lo]), Math.abs(xd[base + a.hi * W + b.hi]));
              s += 2 * m * (dy + dx);
            }
          }
          out[((k * C + c) * o.ph + i) * o.pw + j] = (s / g.count) * (1 + 4 * u);
        }
    }
  }
  return out;
}

/** RoIAlign: per RoI, the outputs under every admissible choice of grid and sample inclusion (≤ 8 per axis). */
export function roiAlignBoundaries(x: Arr, rois: Arr, o: RoiAlignOptions, batch: number[], u: number): Boundaries {
  const [, C, H, W] = x.shape;
  const r = flat(rois);
  const xd = flat(x);
  const res: Boundaries = { blocks: [], reasons: [], capped: false };
  for (let k = 0; k < rois.shape[0]; k++) {
    const [c1, c2, c3, c4] = [1, 2, 3, 4].map((t) => r[5 * k + t]);
    const ya = roiAlignAxis(H, c2, c4, o.spatialScale, o, o.ph, u, `box ${k}, y`);
    const xa = roiAlignAxis(W, c1, c3, o.spatialScale, o, o.pw, u, `box ${k}, x`);
    if (ya.variants.length * xa.variants.length <= 1) continue;
    res.reasons.push(...ya.reasons, ...xa.reasons);
    res.capped ||= ya.capped || xa.capped;
    const n = C * o.ph * o.pw;
    const at = Array.from({ length: n }, (_, t) => k * n + t);
    const values: Float64Array[] = [];
    const mags: Float64Array[] = [];
    const ax = absAll(xd);
    for (const ys of ya.variants)
      for (const xs of xa.variants) {
        values.push(roiAlignBins(xd, batch[k] * C * H * W, C, H, W, ys, xs, o.ph, o.pw));
        mags.push(roiAlignBins(ax, batch[k] * C * H * W, C, H, W, ys, xs, o.ph, o.pw));
      }
    // the op's errorBound is dotBound(…, 64): γ₆₅ on the magnitudes
    const slack = values.map((v, t) => slackOf(u, 64, mags[t], mags[0], v, values[0]));
    res.blocks.push({ name: 'y', at, values, slack });
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// RoIPool

/**
 * RoIPool (torchvision: start = round(c·s) in T, bin = size/pooled in T, bin rows ⌊i·bin⌋ …
 * ⌈(i+1)·bin⌉). Ambiguous decisions, per RoI:
 * - round(c·s) when c·s is within 4u·|c·s| of a half-integer and fl(fl(c)·fl(s)) is not exact: the
 *   two neighbouring integers;
 * - a bin edge e = i·size/pooled that is an exact integer n while size/pooled is not exact at the
 *   precision: the bin starting there may start at n − 1 (⌊n − ε⌋), the bin ending there may end at
 *   n + 1 (⌈n + ε⌉), independently. Edges off the integers are at least 1/pooled away, far beyond
 *   the rounding (sizes below 2²⁰).
 * Variants per RoI ≤ CAP, fewest changes first.
 */
export function roiPoolBoundaries(x: Arr, rois: Arr, ph: number, pw: number, scale: number, u: number): Boundaries {
  const fr = rounder(u);
  const [, C] = x.shape;
  const r = flat(rois);
  const res: Boundaries = { blocks: [], reasons: [], capped: false };
  const s = R.intended(scale);
  for (let k = 0; k < rois.shape[0]; k++) {
    const reasons: string[] = [];
    // decisions: coordinate roundings (alt: the other neighbour), then edge sides
    const coordAlt: (number | undefined)[] = [1, 2, 3, 4].map((t) => {
      const c = r[5 * k + t];
      const exact = R.mul(R.q(c), s);
      if (same(fr(fr(c) * fr(scale)), exact)) return undefined;
      const fl = R.floor(exact);
      const half = R.add({ n: fl, d: 1n }, { n: 1n, d: 2n });
      const band = 4 * u * Math.abs(c * scale);
      if (Math.abs(R.toDouble(R.sub(exact, half))) > band) return undefined;
      const r0 = roundScaled(c, scale);
      const alt = r0 === Number(fl) ? Number(fl) + 1 : Number(fl);
      reasons.push(`box ${k}: ${['x1', 'y1', 'x2', 'y2'][t - 1]}·spatialScale = ${fmt(c * scale)} is within rounding of ${R.toDouble(half)}, so it may round to ${r0} or ${alt}`);
      return alt;
    });
    const coords = [1, 2, 3, 4].map((t) => roundScaled(r[5 * k + t], scale));
    const decisions: { apply: (st: State) => void }[] = [];
    coordAlt.forEach((alt, t) => {
      if (alt !== undefined) decisions.push({ apply: (st) => (st.c[t] = alt) });
    });
    // edges depend on the RoI size, which depends on the coordinate choices: edges are judged on the exact size
    const sizeOf = (lo: number, hi: number) => Math.max(hi - lo + 1, 1);
    const edgeDecisions = (size: number, pooled: number, axis: 'H' | 'W') => {
      const bf = fr(size / pooled);
      if (R.cmp(R.q(bf), R.div(R.int(size), R.int(pooled))) === 0) return;
      for (let i = 1; i <= pooled; i++) {
        if ((i * size) % pooled !== 0) continue;
        const n = (i * size) / pooled;
        if (i < pooled) decisions.push({ apply: (st) => (st[`start${axis}`][i] = n - 1) });
        decisions.push({ apply: (st) => (st[`end${axis}`][i - 1] = n + 1) });
        const word = axis === 'H' ? 'row' : 'column';
        reasons.push(`box ${k}: the bin ${word} edge ${i}·${size}/${pooled} = ${n} is an integer, but ${size}/${pooled} is not exact at this precision, so ${i < pooled ? `bin ${word} ${i} may start at ${n - 1} and ` : ''}bin ${word} ${i - 1} may end at ${n + 1}`);
      }
    };
    edgeDecisions(sizeOf(coords[1], coords[3]), ph, 'H');
    edgeDecisions(sizeOf(coords[0], coords[2]), pw, 'W');
    if (!decisions.length) continue;
    const e = enumerateChoices(decisions.map(() => 2), CAP);
    res.capped ||= e.capped;
    res.reasons.push(...reasons);
    const n = C * ph * pw;
    const values: Float64Array[] = [];
    for (const ch of e.choices) {
      const st: State = { c: coords.slice(), startH: [], endH: [], startW: [], endW: [], sizeH: sizeOf(coords[1], coords[3]), sizeW: sizeOf(coords[0], coords[2]) };
      ch.forEach((c, d) => c && decisions[d].apply(st));
      values.push(roiPoolOne(x, r, k, ph, pw, st));
    }
    const slack = values.map((v) => slackOf(u, 0, absAll(v), absAll(values[0]), v, values[0]));
    res.blocks.push({ name: 'y', at: Array.from({ length: n }, (_, t) => k * n + t), values, slack });
  }
  return res;
}

/** One RoIPool variant: the rounded coordinates, and bin edges moved by rounding (for the RoI size sizeH × sizeW only). */
interface State {
  c: number[];
  startH: number[];
  endH: number[];
  startW: number[];
  endW: number[];
  sizeH: number;
  sizeW: number;
}

/** RoI k of roiPool with the given rounded coordinates and edge overrides: [C, ph, pw]. */
function roiPoolOne(x: Arr, r: Float64Array, k: number, ph: number, pw: number, st: State): Float64Array {
  const [, C, H, W] = x.shape;
  const xd = flat(x);
  const [sw, sh, ew, eh] = st.c;
  const rw = Math.max(ew - sw + 1, 1);
  const rh = Math.max(eh - sh + 1, 1);
  const b = Math.trunc(r[5 * k]);
  // edge overrides belong to the exact size; a variant that rounds a coordinate the other way keeps the exact edges of its own size
  const oh = rh === st.sizeH;
  const ow = rw === st.sizeW;
  const out = new Float64Array(C * ph * pw);
  const clip = (v: number, L: number) => Math.min(Math.max(v, 0), L);
  for (let c = 0; c < C; c++) {
    const base = (b * C + c) * H * W;
    for (let i = 0; i < ph; i++)
      for (let j = 0; j < pw; j++) {
        const h0 = clip(((oh ? st.startH[i] : undefined) ?? binEdge(i, rh, ph, 'floor')) + sh, H);
        const h1 = clip(((oh ? st.endH[i] : undefined) ?? binEdge(i + 1, rh, ph, 'ceil')) + sh, H);
        const w0 = clip(((ow ? st.startW[j] : undefined) ?? binEdge(j, rw, pw, 'floor')) + sw, W);
        const w1 = clip(((ow ? st.endW[j] : undefined) ?? binEdge(j + 1, rw, pw, 'ceil')) + sw, W);
        let m = 0;
        if (h1 > h0 && w1 > w0) {
          m = -3.4028234663852886e38;
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) if (xd[base + h * W + w] > m) m = xd[base + h * W + w];
        }
        out[(c * ph + i) * pw + j] = m;
      }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Max pooling

/**
 * Max-pool indices: a window's argmax may flip when rounding the inputs to the precision makes
 * another cell equal to the maximum (distinct doubles, the same float32). A correct float32
 * implementation then returns the first (row-major) cell of that rounded tie; so the admissible
 * indices are the exact one (first exact maximum) and the first cell whose rounded value equals the
 * rounded maximum. Exact ties are not relaxed: the first cell wins (PyTorch). The values agree
 * within the bound anyway (one rounding of the maximum). NaN windows are not ambiguous. Inputs all
 * representable at the precision: nothing to flip.
 */
export function maxPoolBoundaries(x: Arr, g: PoolGeometry, u: number): Boundaries {
  const res: Boundaries = { blocks: [], reasons: [], capped: false };
  const fr = rounder(u);
  const xd = flat(x);
  if (xd.every((v) => fr(v) === v || !Number.isFinite(v))) return res;
  const [N, C, H, W] = x.shape;
  const [Ho, Wo] = poolShape(H, W, g);
  let t = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let i = 0; i < Ho; i++)
      for (let j = 0; j < Wo; j++, t++) {
        const cells: number[] = [];
        for (let p = 0; p < g.kernel[0]; p++) {
          const h = i * g.stride[0] - g.pads.begin[0] + p * g.dilation[0];
          if (h < 0 || h >= H) continue;
          for (let q = 0; q < g.kernel[1]; q++) {
            const w = j * g.stride[1] - g.pads.begin[1] + q * g.dilation[1];
            if (w >= 0 && w < W) cells.push(h * W + w);
          }
        }
        if (cells.some((c) => Number.isNaN(xd[base + c]))) continue;
        let arg = cells[0];
        for (const c of cells) if (xd[base + c] > xd[base + arg]) arg = c;
        const m = xd[base + arg];
        const first = cells.find((c) => fr(xd[base + c]) === fr(m));
        if (first === undefined || first === arg) continue;
        res.blocks.push({ name: 'indices', at: [t], values: [Float64Array.of(arg), Float64Array.of(first)] });
        res.reasons.push(`window ${t}: x at index ${first} (${xd[base + first]}) and the maximum at ${arg} (${m}) round to the same ${fr(m)}, so the first maximum may be either`);
      }
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// Nearest upsampling

/**
 * Nearest upsampling: the reference takes PyTorch's source index (float32, `min(⌊dst·fl(scale)⌋,
 * in − 1)`: PyTorch defines the op by that arithmetic, at every dtype). The catalogue's formula is
 * the exact ⌊dst·scale⌋ (scale = 1/scaleFactor as the param is meant, or in/out); where the exact
 * index, or the formula computed at the judged precision, differs from PyTorch's, each is
 * admissible: an implementation computing the index exactly or in float64 is correct too. Blocks:
 * one per output pixel (i, j) whose row or column source is ambiguous, over every (n, c) plane.
 */
export function nearestBoundaries(x: Arr, outH: number, outW: number, scale: [number, number] | undefined, u: number): Boundaries {
  const res: Boundaries = { blocks: [], reasons: [], capped: false };
  const [N, C, H, W] = x.shape;
  const sources = (dst: number, inSize: number, outSize: number, sf: number | undefined, axis: string): number[] => {
    const ref = nearestIndex(dst, inSize, outSize, sf);
    if (outSize === inSize || outSize === 2 * inSize) return [ref]; // PyTorch copies or halves: no arithmetic to round
    const sQ = sf !== undefined ? R.div(R.int(1), R.intended(sf)) : R.div(R.int(inSize), R.int(outSize));
    const exact = Math.min(Number(R.floor(R.mul(R.int(dst), sQ))), inSize - 1);
    const fr = rounder(u);
    const atPrecision = Math.min(Math.floor(fr(dst * fr(sf !== undefined ? 1 / sf : inSize / outSize))), inSize - 1);
    const all = [...new Set([ref, exact, atPrecision])];
    if (all.length > 1) res.reasons.push(`${axis} ${dst}: the source index is ${ref} in PyTorch's float32 arithmetic, ${exact} exactly${atPrecision !== ref && atPrecision !== exact ? `, ${atPrecision} at this precision` : ''}`);
    return all;
  };
  const rows = Array.from({ length: outH }, (_, i) => sources(i, H, outH, scale?.[0], 'row'));
  const cols = Array.from({ length: outW }, (_, j) => sources(j, W, outW, scale?.[1], 'column'));
  const xd = flat(x);
  for (let i = 0; i < outH; i++)
    for (let j = 0; j < outW; j++) {
      if (rows[i].length * cols[j].length <= 1) continue;
      const at = Array.from({ length: N * C }, (_, nc) => (nc * outH + i) * outW + j);
      const values: Float64Array[] = [];
      for (const a of rows[i]) for (const b of cols[j]) values.push(Float64Array.from({ length: N * C }, (_, nc) => xd[nc * H * W + a * W + b]));
      // upsample2d's errorBound is dotBound(…, 8)
      const slack = values.map((v) => slackOf(u, 8, absAll(v), absAll(values[0]), v, values[0]));
      res.blocks.push({ name: 'y', at, values, slack });
    }
  return res;
}
