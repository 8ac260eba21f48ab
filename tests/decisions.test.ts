/**
 * Exact decisions in the reference (issue 13): every discrete choice is taken on the exact value of
 * the inputs (BigInt rationals, src/rational.ts), checked here against hand-worked values.
 */
import { describe, expect, it } from 'vitest';
import * as R from '../src/rational.js';
import { binEdge, roundScaled } from '../src/reference/detection.js';
import { run, t, y } from './helpers/run.js';

describe('rationals', () => {
  it('doubles convert exactly and round back correctly', () => {
    // 0.1 = 3602879701896397 / 2^55 exactly
    expect(R.q(0.1)).toEqual({ n: 3602879701896397n, d: 2n ** 55n });
    expect(R.q(-3)).toEqual({ n: -3n, d: 1n });
    expect(R.q(5e-324)).toEqual({ n: 1n, d: 2n ** 1074n });
    expect(R.toDouble({ n: 1n, d: 3n })).toBe(1 / 3);
    expect(R.toDouble({ n: -2n, d: 3n })).toBe(-2 / 3);
    expect(R.toDouble(R.q(0.1))).toBe(0.1);
    // 1 + 2^-53 is a tie between 1 and 1 + 2^-52: even (1); a hair above goes up
    expect(R.toDouble({ n: 2n ** 53n + 1n, d: 2n ** 53n })).toBe(1);
    expect(R.toDouble({ n: 2n ** 54n + 3n, d: 2n ** 54n })).toBe(1 + 2 ** -52);
    expect(R.floor({ n: -1n, d: 2n })).toBe(-1n);
    expect(R.ceil({ n: 1n, d: 2n })).toBe(1n);
    expect(R.roundHalfAway({ n: -5n, d: 2n })).toBe(-3n);
    expect(R.roundHalfAway({ n: 5n, d: 2n })).toBe(3n);
  });
  it('params stand for the simplest rational that rounds to them', () => {
    expect(R.intended(0.6)).toEqual({ n: 3n, d: 5n });
    expect(R.intended(1 / 3)).toEqual({ n: 1n, d: 3n });
    expect(R.intended(-0.25)).toEqual({ n: -1n, d: 4n });
    expect(R.intended(0.3)).toEqual({ n: 3n, d: 10n });
    for (const x of [0.123456789, Math.PI, 1e-300, 2 ** -60]) expect(R.toDouble(R.intended(x))).toBe(x);
    expect(R.decimal(0.6)).toEqual({ n: 3n, d: 5n });
    expect(R.cmp(R.q(0.6), R.decimal(0.6))).toBe(-1); // the double 0.6 lies below 3/5
    expect(R.decimal(1e-7)).toEqual({ n: 1n, d: 10000000n });
    expect(R.decimal(-2.5e21)).toEqual({ n: -2500000000000000000000n, d: 1n });
  });
});

describe('NMS: IoU against the threshold, exactly', () => {
  // [0,0,5,1] and [0,0,3,1]: intersection 3, union 5, IoU exactly 3/5
  const boxes = t([2, 4], [0, 0, 5, 1, 0, 0, 3, 1]);
  const scores = t([2], [0.9, 0.8]);
  it('IoU 1/3 at threshold 1/3 is kept', () => {
    // [0,0,2,1] and [1,0,3,1]... intersection 1, union 3
    expect(y('nms', { boxes: t([2, 4], [0, 0, 2, 1, 0, 0, 1, 1]), scores }, { iouThreshold: 1 / 2 }, 'keep')).toEqual([0, 1]);
    expect(y('nms', { boxes: t([2, 4], [0, 0, 2, 1, 1, 0, 3, 1]), scores }, { iouThreshold: 1 / 3 }, 'keep')).toEqual([0, 1]);
    expect(y('nms', { boxes: t([2, 4], [0, 0, 2, 1, 1, 0, 3, 1]), scores }, { iouThreshold: 0.3333333333333332 }, 'keep')).toEqual([0]);
  });
  it('IoU 0.6 at threshold 0.6 is kept (strict >), below it suppressed', () => {
    expect(y('nms', { boxes, scores }, { iouThreshold: 0.6 }, 'keep')).toEqual([0, 1]);
    expect(y('nms', { boxes, scores }, { iouThreshold: 0.5999999999999999 }, 'keep')).toEqual([0]);
    expect(y('nms', { boxes, scores }, { iouThreshold: 0.6000000000000001 }, 'keep')).toEqual([0, 1]);
  });
  it('cxcywh converted exactly: the same boxes as centres and sizes decide the same way', () => {
    const c = t([2, 4], [2.5, 0.5, 5, 1, 1.5, 0.5, 3, 1]);
    expect(y('nms', { boxes: c, scores }, { iouThreshold: 0.6, boxFormat: 'cxcywh' }, 'keep')).toEqual([0, 1]);
    expect(y('nms', { boxes: c, scores }, { iouThreshold: 0.5999999999999999, boxFormat: 'cxcywh' }, 'keep')).toEqual([0]);
  });
});

describe('RoIAlign: sample positions exact', () => {
  it('a sample at exactly −1 is inside the map (float64 puts it at −1.0000000000000002)', () => {
    // x1 = −2, x2 = 0, 3 bins of width 2/3, one sample each: −5/3, −1, −1/3.
    // −5/3 is outside (0); −1 and −1/3 clamp to cell 0 with weight 1.
    expect(-2 + 2 / 3 + (0.5 * (2 / 3)) / 1).toBe(-1.0000000000000002);
    const x = t([1, 1, 1, 3], [7, 11, 13]);
    const out = y('roiAlign', { x, boxes: t([1, 5], [0, -2, 0, 0, 0]) }, { outputSize: [1, 3], samplingRatio: 1 }, 'y');
    expect(out).toEqual([0, 7, 7]);
  });
  it('backward sends the gradient of that sample to cell 0', () => {
    const x = t([1, 1, 1, 3], [7, 11, 13]);
    const g = run('roiAlignBackward', { x, boxes: t([1, 5], [0, -2, 0, 0, 0]), dy: t([1, 1, 1, 3], [1, 2, 4]) }, { outputSize: [1, 3], samplingRatio: 1 });
    expect(Array.from(g.dx.data)).toEqual([6, 0, 0]);
  });
});

describe('RoIPool: rounding and bin edges exact', () => {
  it('round(v·scale) of the exact product, params as written', () => {
    // −25 · 0.3 = −7.5 exactly → −8 (half away); 25 · 0.3 → 8
    expect(roundScaled(-25, 0.3)).toBe(-8);
    expect(roundScaled(25, 0.3)).toBe(8);
    expect(roundScaled(0.49999999999999994, 1)).toBe(0);
  });
  it('bin edges by integer division: ⌈25·14/25⌉ = 14, where ⌈25·fl(14/25)⌉ = 15', () => {
    expect(Math.ceil(25 * (14 / 25))).toBe(15);
    expect(binEdge(25, 14, 25, 'ceil')).toBe(14);
    expect(binEdge(24, 14, 25, 'floor')).toBe(13);
    // 16 rows, the RoI rows 0..13 in 25 bins: the last bin is row 13 alone, not rows 13–14
    const rows = Array.from({ length: 16 }, (_, i) => (i === 14 ? 100 : i));
    const out = y('roiPool', { x: t([1, 1, 16, 1], rows), boxes: t([1, 5], [0, 0, 0, 0, 13]) }, { outputSize: [25, 1] }, 'y');
    expect(out[24]).toBe(13);
    expect(Math.max(...out)).toBe(13);
  });
});
