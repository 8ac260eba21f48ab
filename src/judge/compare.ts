/**
 * Comparing a result with an expected tensor, in the manner of torch.testing.assert_close:
 * shape first, then values element by element against a per-element allowance.
 *
 * Policy for special values (documented in the README):
 * - NaN matches NaN only; +∞ and −∞ match only themselves;
 * - −0 and +0 compare equal (their sign is not checked) unless `signedZero` is set.
 */
import type { Arr } from '../tensor.js';
import { shapeString } from '../tensor.js';
import { flat } from '../reference/common.js';

export interface Tolerance {
  rtol?: number;
  atol?: number;
  /** ULPs of the expected value at float64. */
  ulp?: number;
}

export interface Mismatch {
  ok: boolean;
  /** Shape disagreement, when there is one. */
  shape?: string;
  mismatched: number;
  total: number;
  maxAbs: number;
  maxAbsIndex: number[];
  maxRel: number;
  maxRelIndex: number[];
  /** The allowance at the worst element. */
  allowedAtWorst: number;
  /** Expected and got at the worst element. */
  worstExpected?: number;
  worstGot?: number;
  /**
   * The worst error as a multiple of its allowance, max |got − expected| / allowed over the
   * elements (≤ 1 when the values pass; ∞ for a shape or non-finite mismatch, or any error where
   * nothing is allowed).
   */
  worstRatio: number;
  /** The first element that is non-finite where it should not be, or vice versa. */
  nonFinite?: { index: number[]; expected: number; got: number };
}

const view = new DataView(new ArrayBuffer(8));

/** Unit in the last place of x at float64 (the spacing of doubles at |x|). */
export function ulp64(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  view.setFloat64(0, Math.abs(x));
  const exp = (view.getUint32(0) >>> 20) & 0x7ff;
  return exp === 0 ? 5e-324 : Math.pow(2, exp - 1075);
}

export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = shape[k] === 0 ? 0 : i % shape[k];
    i = shape[k] === 0 ? 0 : Math.floor(i / shape[k]);
  }
  return idx;
}

/**
 * Compares `got` with `expected`. `allowed(i)` gives the allowance of element i; by default it
 * is built from the tolerance: atol + rtol·|e| (+ ulp·ulp(e)).
 */
export function compareArrays(got: Arr, expected: Arr, allowed: (i: number, e: number) => number, signedZero = false): Mismatch {
  const base = { mismatched: 0, total: expected.data.length, maxAbs: 0, maxAbsIndex: [], maxRel: 0, maxRelIndex: [], allowedAtWorst: 0, worstRatio: 0 };
  if (got.shape.length !== expected.shape.length || got.shape.some((d, i) => d !== expected.shape[i])) {
    return { ok: false, shape: `shape ${shapeString(got.shape)} differs from the expected ${shapeString(expected.shape)}`, ...base, worstRatio: Infinity };
  }
  const g = flat(got);
  const e = flat(expected);
  const r: Mismatch = { ok: true, ...base, total: e.length };
  let worstExcess = -Infinity;
  for (let i = 0; i < e.length; i++) {
    const a = g[i];
    const b = e[i];
    let bad: boolean;
    let diff: number;
    if (Number.isNaN(b) || Number.isNaN(a) || !Number.isFinite(b) || !Number.isFinite(a)) {
      bad = !(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)));
      diff = bad ? Infinity : 0;
      if (bad) r.worstRatio = Infinity;
      if (bad && !r.nonFinite) r.nonFinite = { index: unravel(i, e.length ? expected.shape : []), expected: b, got: a };
    } else {
      diff = Math.abs(a - b);
      // an allowance that came out NaN (a bound's formula broke down) allows nothing: NaN compares
      // false, and `diff > NaN` would pass every value; the failure then shows the broken bound
      const given = allowed(i, b);
      const tol = Number.isNaN(given) ? 0 : given;
      bad = diff > tol || (signedZero && a === 0 && b === 0 && !Object.is(a, b));
      const ratio = diff === 0 ? 0 : diff / tol; // diff / 0 = ∞
      if (ratio > r.worstRatio) r.worstRatio = ratio;
      if (bad && diff - tol > worstExcess) {
        worstExcess = diff - tol;
        r.allowedAtWorst = tol;
        r.worstExpected = b;
        r.worstGot = a;
      }
    }
    if (!bad) continue;
    r.ok = false;
    r.mismatched++;
    if (diff > r.maxAbs || r.maxAbsIndex.length === 0) {
      r.maxAbs = diff;
      r.maxAbsIndex = unravel(i, expected.shape);
    }
    const rel = diff / Math.abs(b);
    if (rel > r.maxRel || r.maxRelIndex.length === 0) {
      r.maxRel = rel;
      r.maxRelIndex = unravel(i, expected.shape);
    }
  }
  return r;
}

export function toleranceAllowance(t: Tolerance): (i: number, e: number) => number {
  const rtol = t.rtol ?? 0;
  const atol = t.atol ?? 0;
  const ulps = t.ulp ?? 0;
  return (_i, e) => atol + rtol * Math.abs(e) + (ulps ? ulps * ulp64(e) : 0);
}

const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));
const idx = (i: number[]) => '(' + i.join(', ') + ')';

/** A report in the words of torch.testing.assert_close. */
export function describeMismatch(name: string, m: Mismatch): string {
  if (m.shape) return `${name}: ${m.shape}`;
  const lines = [
    `${name}: mismatched elements: ${m.mismatched} / ${m.total} (${((100 * m.mismatched) / Math.max(m.total, 1)).toFixed(1)}%)`,
  ];
  if (m.nonFinite) lines.push(`  at ${idx(m.nonFinite.index)} expected ${fmt(m.nonFinite.expected)} but got ${fmt(m.nonFinite.got)}`);
  if (Number.isFinite(m.maxAbs) || m.worstExpected !== undefined) {
    lines.push(`  greatest absolute difference: ${fmt(m.maxAbs)} at index ${idx(m.maxAbsIndex)} (up to ${fmt(m.allowedAtWorst)} allowed)`);
    lines.push(`  greatest relative difference: ${fmt(m.maxRel)} at index ${idx(m.maxRelIndex)}`);
    if (m.worstExpected !== undefined) lines.push(`  worst element: expected ${fmt(m.worstExpected)}, got ${fmt(m.worstGot!)}`);
  }
  return lines.join('\n');
}
