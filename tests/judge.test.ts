import { describe, expect, it } from 'vitest';
import { fromData, getOp } from '../src/index.js';
import * as judge from '../src/judge/index.js';

const u32 = 2 ** -24;

describe('the judging module: bounds, comparison and shrinking in one place', () => {
  it('unit roundoff, γₙ and the relative bound, hand-worked', () => {
    expect(judge.unitRoundoff('float32')).toBe(2 ** -24);
    expect(judge.unitRoundoff('float64')).toBe(2 ** -53);
    expect(judge.gamma(3, 2 ** -10)).toBe((3 * 2 ** -10) / (1 - 3 * 2 ** -10));
    const b = judge.relativeBound({ y: fromData([2, -8], [2]) }, 4, u32, 1e-3);
    expect(Array.from(b.y.data)).toEqual([4 * u32 * 2 + 1e-3, 4 * u32 * 8 + 1e-3]);
  });

  it('the sum-of-products bound of linear: γ₃·Σ|x·w| + u·|y|, by hand', () => {
    const op = getOp('linear');
    const inputs = { x: fromData([1, -2], [1, 2]), weight: fromData([3, 4], [1, 2]) };
    const y = op.reference(inputs, {});
    expect(Array.from(y.y.data)).toEqual([-5]);
    const b = judge.dotBound(op, inputs, {}, y, u32, 2);
    expect(b.y.data[0]).toBe(judge.gamma(3, u32) * 11 + u32 * 5);
  });

  it('allowances: sigmoid at float32 is its 4 ulps at float32 + 4 at float64 + the output rounding; int64 outputs are exact', () => {
    const op = getOp('sigmoid');
    const x = { x: fromData([0], [1]) };
    const y = op.reference(x, {});
    const a = judge.allowances(op, x, {}, y, { kind: 'bound', precision: 'float32' });
    expect(a.y(0, 0.5)).toBe(4 * u32 * 0.5 + 4 * 2 ** -53 * 0.5 + u32 * 0.5);
    const mp = getOp('maxPool2d');
    const px = { x: fromData([1, 2, 3, 4], [1, 1, 2, 2]) };
    const p = { kernelSize: 2, returnIndices: true, stride: 2, padding: 0, dilation: 1, ceilMode: false };
    const pa = judge.allowances(mp, px, p, mp.reference(px, p), { kind: 'bound', precision: 'float32' });
    expect(pa.indices(0, 3)).toBe(0);
  });

  it('compareArrays finds the worst element against its allowance', () => {
    const m = judge.compareArrays(fromData([1, 2.5, NaN], [3]), fromData([1, 2, NaN], [3]), () => 0.25);
    expect(m.ok).toBe(false);
    expect([m.mismatched, m.maxAbs, m.allowedAtWorst, m.worstExpected, m.worstGot]).toEqual([1, 0.5, 0.25, 2, 2.5]);
  });

  it('shrinkFailure keeps the failure’s kind and ≥ SEVERITY_KEPT of its severity (the rule conformance and grading share)', async () => {
    const op = getOp('relu');
    const x = fromData([4, 3, 2, 1], [4]);
    // a synthetic verdict: the error is 10·max|x| × the allowance (so any non-zero variant fails)
    const severe = async (v: Record<string, import('../src/index.js').Arr>) => {
      const m = Math.max(...Array.from(v.x.data, Math.abs));
      return m ? { kind: 'values', severity: 10 * m } : undefined;
    };
    const small = await judge.shrinkFailure(op, { x }, { kind: 'values', severity: 40 }, severe);
    const got = Array.from(small!.x.data);
    // shrunk (more zeros) but still ≥ 50 % of 40×: the 4 stays; without the rule [0, 0, 0, 1] (10×) would do
    expect(got.filter((v) => v === 0).length).toBeGreaterThan(0);
    expect(10 * Math.max(...got)).toBeGreaterThanOrEqual(judge.SEVERITY_KEPT * 40);
    // the plain shrinker, asked only "does it still fail?", goes on to a milder failure
    const milder = await judge.shrinkCase(op, { x }, async (v) => !!(await severe(v)));
    expect(10 * Math.max(...Array.from(milder!.x.data))).toBeLessThan(judge.SEVERITY_KEPT * 40);
    // a variant failing another way (a shape, ∞×) never replaces a failure of wrong values, nor the reverse
    const otherKind = async () => ({ kind: 'shape', severity: Infinity });
    expect(await judge.shrinkFailure(op, { x }, { kind: 'values', severity: 40 }, otherKind)).toBeUndefined();
    expect(await judge.shrinkFailure(op, { x }, { kind: 'shape', severity: Infinity }, severe)).toBeUndefined();
  });

  it('a failure every input gives shrinks to all zeros in one run (not one run per value)', async () => {
    const op = getOp('relu');
    const x = fromData(Array.from({ length: 40 }, (_, i) => i - 19.5), [40]);
    let runs = 0;
    const small = await judge.shrinkCase(op, { x }, async () => (runs++, true));
    expect(Array.from(small!.x.data)).toEqual(new Array(40).fill(0));
    expect(runs).toBe(1);
    // when all zeros passes, fast-check shrinks value by value as before (here: the -19.5 must stay)
    runs = 0;
    const one = await judge.shrinkCase(op, { x }, async (v) => (runs++, v.x.data[0] === -19.5));
    expect(Array.from(one!.x.data)).toEqual([-19.5, ...new Array(39).fill(0)]);
    expect(runs).toBeGreaterThan(1);
  });

  it('an allowance that came out NaN allows nothing (diff > NaN is false: it would pass every value)', () => {
    const m = judge.compareArrays(fromData([1, 2.5], [2]), fromData([1, 2], [2]), () => NaN);
    expect([m.ok, m.mismatched, m.allowedAtWorst, m.worstGot]).toEqual([false, 1, 0, 2.5]);
    expect(judge.compareArrays(fromData([1, 2], [2]), fromData([1, 2], [2]), () => NaN).ok).toBe(true);
  });
});
