import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ExactSum, fsum, exactDot, twoProduct, conv2dRef, linearRef, fromData, resolvePadding } from '../src/index.js';
import { exactDotRounded } from './helpers/exact-rational.js';

const f32 = fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e6), max: Math.fround(1e6) }).filter((x) => x === 0 || Math.abs(x) > 1e-30);

describe('error-free arithmetic', () => {
  it('twoProduct splits a product exactly', () => {
    const [p, e] = twoProduct(0.1, 0.3);
    expect(p).toBe(0.1 * 0.3);
    expect(exactDotRounded([[0.1, 0.3]], [-p])).toBe(e);
  });

  it('fsum is correctly rounded where naive summation is not', () => {
    expect(fsum([1e100, 1, -1e100])).toBe(1);
    expect(fsum([0.1, 0.2, 0.3, -0.6])).toBe(exactDotRounded([], [0.1, 0.2, 0.3, -0.6]));
    expect(fsum([1, 1e-16, 1e-16])).toBe(1.0000000000000002);
    // the round-half-even corner that needs the remaining partials: 2^53 + 1 + tiny
    expect(fsum([2 ** 53, 1, 1e-300])).toBe(2 ** 53 + 2);
    expect(fsum([2 ** 53, 1, -1e-300])).toBe(2 ** 53);
  });

  it('follows IEEE rules for non-finite terms', () => {
    expect(fsum([1, Infinity, 2])).toBe(Infinity);
    expect(Number.isNaN(fsum([Infinity, -Infinity]))).toBe(true);
    expect(Number.isNaN(new ExactSum().addProduct(0, Infinity).value())).toBe(true);
  });

  it('the exact dot product equals the BigInt-rational result, correctly rounded (float32 inputs)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(f32, f32), { minLength: 1, maxLength: 40 }), (pairs) => {
        const got = exactDot(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
        return Object.is(got, exactDotRounded(pairs)) || (got === 0 && exactDotRounded(pairs) === 0);
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it('the exact dot product is exact for float64 inputs too (away from under/overflow)', () => {
    const d = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e50, max: 1e50 }).filter((x) => x === 0 || Math.abs(x) > 1e-50);
    fc.assert(
      fc.property(fc.array(fc.tuple(d, d), { minLength: 1, maxLength: 30 }), (pairs) => {
        const got = exactDot(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
        const want = exactDotRounded(pairs);
        return got === want;
      }),
      { seed: 11, numRuns: 500 },
    );
  });
});

describe('conv2d and linear are correctly rounded', () => {
  it('conv2d outputs equal the exact rational result on random float32 cases', () => {
    fc.assert(
      fc.property(
        fc.record({
          C: fc.integer({ min: 1, max: 3 }),
          H: fc.integer({ min: 3, max: 6 }),
          W: fc.integer({ min: 3, max: 6 }),
          k: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 2 }),
          pad: fc.integer({ min: 0, max: 2 }),
          bias: fc.boolean(),
          seedData: fc.array(f32, { minLength: 200, maxLength: 200 }),
        }),
        ({ C, H, W, k, stride, pad, bias, seedData }) => {
          let s = 0;
          const next = () => seedData[s++ % seedData.length];
          const x = fromData(Array.from({ length: C * H * W }, next), [1, C, H, W]);
          const w = fromData(Array.from({ length: 2 * C * k * k }, next), [2, C, k, k]);
          const b = bias ? fromData([next(), next()], [2]) : undefined;
          const geo = { stride: [stride, stride], dilation: [1, 1], pads: resolvePadding(pad, 2, [k, k], [1, 1], null), groups: 1, flip: false };
          const y = conv2dRef(x, w, b, geo);
          const [, , Ho, Wo] = y.shape;
          for (let o = 0; o < 2; o++)
            for (let i = 0; i < Ho; i++)
              for (let j = 0; j < Wo; j++) {
                const prods: [number, number][] = [];
                for (let c = 0; c < C; c++)
                  for (let p = 0; p < k; p++)
                    for (let q = 0; q < k; q++) {
                      const h = i * stride - pad + p;
                      const v = j * stride - pad + q;
                      if (h >= 0 && h < H && v >= 0 && v < W) prods.push([x.get(0, c, h, v), w.get(o, c, p, q)]);
                    }
                const want = exactDotRounded(prods, b ? [b.get(o)] : []);
                if (y.get(0, o, i, j) !== want) return false;
              }
          return true;
        },
      ),
      { seed: 3, numRuns: 60 },
    );
  });

  it('linear outputs equal the exact rational result, with catastrophic cancellation', () => {
    // naive summation gives 0 here; the exact answer is 1
    const x = fromData([1e8, 1, -1e8], [1, 3]);
    const w = fromData([1e8, 1, 1e8], [1, 3]);
    expect(linearRef(x, w, undefined).data[0]).toBe(1);
    fc.assert(
      fc.property(fc.array(f32, { minLength: 12, maxLength: 12 }), fc.array(f32, { minLength: 3, maxLength: 3 }), (xs, bs) => {
        const xx = fromData(xs.slice(0, 4), [1, 4]);
        const ww = fromData(xs.slice(4, 12), [2, 4]);
        const bb = fromData(bs.slice(0, 2), [2]);
        const y = linearRef(xx, ww, bb);
        return [0, 1].every((o) => y.data[o] === exactDotRounded(xs.slice(0, 4).map((v, i) => [v, xs[4 + o * 4 + i]] as [number, number]), [bs[o]]));
      }),
      { seed: 5, numRuns: 300 },
    );
  });
});

describe('the certified fast path of conv2d (float32 inputs) rounds exactly as ExactSum', () => {
  const ref = (x: ReturnType<typeof fromData>, w: ReturnType<typeof fromData>, b: ReturnType<typeof fromData> | undefined, k: number, pad: number) => {
    const geo = { stride: [1, 1], dilation: [1, 1], pads: resolvePadding(pad, 2, [k, k], [1, 1], null), groups: 1, flip: false };
    return conv2dRef(x, w, b, geo);
  };
  it('ties, cancellation to zero, and wide exponent ranges agree with the BigInt-rational result', () => {
    // x·w sums that land exactly halfway between doubles (ties to even), on zero, and across 2^±100
    const big = Math.fround(2 ** 30);
    const cases: [number[], number[], number[]][] = [
      [[big * big, 1, 1e-30], [1, 1, 0], []],
      [[2 ** 52, 0.5, 0.5], [1, 1, 1], []], // 2^52 + 1: exact
      [[2 ** 53, 1, 0], [1, 1, 1], []], // 2^53 + 1: a tie, to even 2^53
      [[2 ** 53, 1, 2 ** -100], [1, 1, 1], []], // just above the tie: up
      [[2 ** 53, 1, -(2 ** -100)], [1, 1, 1], []], // just below: down
      [[1.5, -1.5, 0], [1, 1, 1], [0]], // exact zero
      [[2 ** 100, -(2 ** 100), 2 ** -100], [1, 1, 1], [3]],
    ];
    for (const [xs, ws, bs] of cases) {
      const x = fromData(xs.map(Math.fround), [1, 1, 1, 3]);
      const w = fromData(ws, [1, 1, 1, 3]);
      const b = bs.length ? fromData(bs, [1]) : undefined;
      const got = ref(x, w, b, 3, 0).data[0];
      const want = exactDotRounded(xs.map((v, i) => [Math.fround(v), ws[i]] as [number, number]), bs);
      expect(Object.is(got, want) || (got === 0 && want === 0), `${xs} · ${ws} + ${bs}: ${got} vs ${want}`).toBe(true);
    }
  });

  it('agrees with the BigInt-rational result on full-precision float32 data with wide exponent ranges (certified and exact paths)', () => {
    const wide = fc.tuple(fc.float({ noNaN: true, noDefaultInfinity: true, min: 1, max: 2 }), fc.integer({ min: -60, max: 60 }), fc.boolean()).map(([m, e, neg]) => Math.fround((neg ? -m : m) * 2 ** e));
    fc.assert(
      fc.property(fc.array(wide, { minLength: 36, maxLength: 36 }), fc.array(f32, { minLength: 19, maxLength: 19 }), (xs, ws) => {
        const x = fromData(xs, [1, 1, 6, 6]);
        const w = fromData(ws.slice(0, 18), [2, 1, 3, 3]);
        const b = fromData([ws[18], -ws[18]], [2]);
        const y = ref(x, w, b, 3, 1);
        for (let o = 0; o < 2; o++)
          for (let i = 0; i < 6; i++)
            for (let j = 0; j < 6; j++) {
              const prods: [number, number][] = [];
              for (let p = 0; p < 3; p++)
                for (let q = 0; q < 3; q++) {
                  const h = i - 1 + p;
                  const v = j - 1 + q;
                  if (h >= 0 && h < 6 && v >= 0 && v < 6) prods.push([xs[h * 6 + v], ws[o * 9 + p * 3 + q]]);
                }
              const want = exactDotRounded(prods, [o ? -ws[18] : ws[18]]);
              const got = y.data[(o * 6 + i) * 6 + j];
              if (!(Object.is(got, want) || (got === 0 && want === 0))) return false;
            }
        return true;
      }),
      { seed: 17, numRuns: 150 },
    );
  });
});
