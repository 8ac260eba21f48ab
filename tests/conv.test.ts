import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { errorOf, range, run, t, y } from './helpers/run.js';
import { naiveConv2d, nest, flatten } from './helpers/naive.js';

const ones = (n: number) => new Array<number>(n).fill(1);

describe('convolve (worked examples of exercises.md)', () => {
  it('vector convolution [1,0,−1] ∗ [0,1,2] = [0,1,2,−1,−2]', () => {
    expect(y('convolve', { a: t([3], [1, 0, -1]), b: t([3], [0, 1, 2]) })).toEqual([0, 1, 2, -1, -2]);
  });

  it('Sobel: true convolution with zero padding, same size', () => {
    const out = y('convolve', { a: t([3, 3], range(9, 1)), b: t([3, 3], [-1, -2, -1, 0, 0, 0, 1, 2, 1]) }, { mode: 'same' });
    expect(out).toEqual([-13, -20, -17, -18, -24, -18, 13, 20, 17]);
  });

  it('full has size (n+k−1)×(m+l−1); valid has (n−k+1)×(m−l+1)', () => {
    const a = t([3, 4], range(12));
    const b = t([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(run('convolve', { a, b }).y.shape).toEqual([4, 6]);
    expect(run('convolve', { a, b }, { mode: 'valid' }).y.shape).toEqual([2, 2]);
  });

  it('correlation (flip false) equals convolution with the kernel reversed', () => {
    const a = t([5], [1, 2, 3, 4, 5]);
    expect(y('convolve', { a, b: t([3], [1, 0, -1]) }, { flip: false })).toEqual(y('convolve', { a, b: t([3], [-1, 0, 1]) }));
    // scipy.signal.correlate([1,2,3,4,5], [1,0,-1]) = [-1, -2, -2, -2, -2, 4, 5]
    expect(y('convolve', { a, b: t([3], [1, 0, -1]) }, { flip: false })).toEqual([-1, -2, -2, -2, -2, 4, 5]);
  });

  it('same crops the full result starting at ⌊(k−1)/2⌋ (even kernels too)', () => {
    // numpy.convolve([1,2,3], [0,1,0.5], 'same') = [1, 2.5, 4]; with [1,1]: full [1,3,5,3] → [1,3,5]
    expect(y('convolve', { a: t([3], [1, 2, 3]), b: t([3], [0, 1, 0.5]) }, { mode: 'same' })).toEqual([1, 2.5, 4]);
    expect(y('convolve', { a: t([3], [1, 2, 3]), b: t([2], [1, 1]) }, { mode: 'same' })).toEqual([1, 3, 5]);
  });

  it('rejects valid mode with a kernel larger than the signal', () => {
    expect(errorOf(() => run('convolve', { a: t([2], [1, 2]), b: t([3], [1, 2, 3]) }, { mode: 'valid' })).path).toBe('/params/mode');
  });
});

describe('conv2d: values from the ONNX operator documentation (explicit pads, which its evaluator gets right)', () => {
  const x5 = t([1, 1, 5, 5], range(25));
  const x75 = t([1, 1, 7, 5], range(35));
  const w = t([1, 1, 3, 3], ones(9));
  it('pad 1', () => {
    expect(y('conv2d', { x: x5, weight: w }, { padding: 1 })).toEqual([12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84]);
  });
  it('no padding', () => {
    expect(y('conv2d', { x: x5, weight: w })).toEqual([54, 63, 72, 99, 108, 117, 144, 153, 162]);
  });
  it('stride 2, pad 1', () => {
    expect(y('conv2d', { x: x75, weight: w }, { stride: 2, padding: 1 })).toEqual([12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124]);
  });
  it('stride 2, no padding', () => {
    expect(y('conv2d', { x: x75, weight: w }, { stride: 2 })).toEqual([54, 72, 144, 162, 234, 252]);
  });
  it('stride 2, asymmetric padding: one row top and bottom, none left or right', () => {
    // ONNX pads [1, 0, 1, 0] = (top, left, bottom, right); ours [top, bottom, left, right]
    expect(y('conv2d', { x: x75, weight: w }, { stride: 2, padding: [1, 1, 0, 0] })).toEqual([21, 33, 99, 117, 189, 207, 171, 183]);
  });
});

describe('conv2d by hand', () => {
  it('bias, stride, dilation on a 4×4 ramp', () => {
    const x = t([1, 1, 4, 4], range(16));
    // dilation 2 with a 2×2 kernel [[1,0],[0,1]] reads x[i][j] + x[i+2][j+2]
    expect(y('conv2d', { x, weight: t([1, 1, 2, 2], [1, 0, 0, 1]), bias: t([1], [0.5]) }, { dilation: 2 })).toEqual([10.5, 12.5, 18.5, 20.5]);
  });

  it('"same" keeps the size with the odd extra at the end (even kernel)', () => {
    // k=2: total pad 1 → 0 before, 1 after; y[i] = x[i] + x[i+1] (x beyond the end is 0)
    expect(y('conv1d', { x: t([1, 1, 4], [1, 2, 3, 4]), weight: t([1, 1, 2], [1, 1]) }, { padding: 'same' })).toEqual([3, 5, 7, 4]);
  });

  it('flip rotates the kernel by 180°', () => {
    const x = t([1, 1, 3, 3], range(9, 1));
    const k = [1, 2, 3, 4];
    expect(y('conv2d', { x, weight: t([1, 1, 2, 2], k) }, { flip: true })).toEqual(y('conv2d', { x, weight: t([1, 1, 2, 2], [...k].reverse()) }));
  });

  it('1-D: stride 2, padding [begin, end]', () => {
    // x padded: [0, 1, 2, 3, 4, 5, 0, 0]; windows of 3 at 0, 2, 4 → [0+1+2, 2+3+4, 4+5+0]
    expect(y('conv1d', { x: t([1, 1, 5], [1, 2, 3, 4, 5]), weight: t([1, 1, 3], [1, 1, 1]) }, { stride: 2, padding: [1, 2] })).toEqual([3, 9, 9]);
  });
});

/** A random conv2d configuration as fast-check arbitrary. */
const convCase = fc
  .record({
    N: fc.integer({ min: 1, max: 2 }),
    g: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 2 }),
    og: fc.integer({ min: 1, max: 2 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    pads: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    extraH: fc.integer({ min: 0, max: 4 }),
    extraW: fc.integer({ min: 0, max: 4 }),
    seed: fc.integer({ min: 1, max: 1e9 }),
  })
  .map((c) => {
    let s = c.seed;
    const rnd = () => {
      s = (s * 16807) % 2147483647;
      return Math.round(((s / 2147483647) * 2 - 1) * 32) / 8; // multiples of 1/8: sums are exact in float64
    };
    const C = c.g * c.cg;
    const O = c.g * c.og;
    const H = c.dh * (c.kh - 1) + 1 + c.extraH;
    const W = c.dw * (c.kw - 1) + 1 + c.extraW;
    return {
      ...c,
      x: t([c.N, C, H, W], Array.from({ length: c.N * C * H * W }, rnd)),
      w: t([O, c.cg, c.kh, c.kw], Array.from({ length: O * c.cg * c.kh * c.kw }, rnd)),
      b: t([O], Array.from({ length: O }, rnd)),
    };
  });

describe('conv2d properties (fast-check)', () => {
  it('equals an independent im2col implementation (exactly, on dyadic values)', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const params = { stride: [c.sh, c.sw], dilation: [c.dh, c.dw], padding: [...c.pads], groups: c.g };
        const got = y('conv2d', { x: c.x, weight: c.w, bias: c.b }, params);
        const want = flatten(naiveConv2d(nest(c.x.data, c.x.shape), nest(c.w.data, c.w.shape), c.b.data, [c.sh, c.sw], c.pads, [c.dh, c.dw], c.g));
        expect(got).toEqual(want);
      }),
      { seed: 101, numRuns: 150 },
    );
  });

  it('is linear in x: conv(αx₁ + x₂) = α·conv(x₁) + conv(x₂) (no bias)', () => {
    fc.assert(
      fc.property(convCase, fc.integer({ min: -3, max: 3 }), (c, alpha) => {
        const params = { stride: [c.sh, c.sw], dilation: [c.dh, c.dw], padding: [...c.pads], groups: c.g };
        const x2 = { shape: c.x.shape, data: c.x.data.map((v, i) => (i % 3) - v / 2) };
        const mix = { shape: c.x.shape, data: c.x.data.map((v, i) => alpha * v + x2.data[i]) };
        const a = y('conv2d', { x: c.x, weight: c.w }, params);
        const b = y('conv2d', { x: x2, weight: c.w }, params);
        expect(y('conv2d', { x: mix, weight: c.w }, params)).toEqual(a.map((v, i) => alpha * v + b[i]));
      }),
      { seed: 102, numRuns: 100 },
    );
  });

  it('flip ⇔ the kernel rotated by 180°', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const params = { stride: [c.sh, c.sw], dilation: [c.dh, c.dw], padding: [...c.pads], groups: c.g };
        const [O, cg, kh, kw] = c.w.shape;
        const rot = c.w.data.slice();
        for (let o = 0; o < O * cg; o++) for (let i = 0; i < kh * kw; i++) rot[o * kh * kw + i] = c.w.data[o * kh * kw + (kh * kw - 1 - i)];
        expect(y('conv2d', { x: c.x, weight: c.w }, { ...params, flip: true })).toEqual(y('conv2d', { x: c.x, weight: t(c.w.shape, rot) }, params));
      }),
      { seed: 103, numRuns: 100 },
    );
  });

  it('groups = split the channels, convolve each group, concatenate', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const params = { stride: [c.sh, c.sw], dilation: [c.dh, c.dw], padding: [...c.pads] };
        const full = run('conv2d', { x: c.x, weight: c.w, bias: c.b }, { ...params, groups: c.g }).y;
        const [N, C, H, W] = c.x.shape;
        const [O, cg, kh, kw] = c.w.shape;
        const og = O / c.g;
        for (let g = 0; g < c.g; g++) {
          const xs: number[] = [];
          for (let n = 0; n < N; n++) xs.push(...c.x.data.slice((n * C + g * cg) * H * W, (n * C + (g + 1) * cg) * H * W));
          const part = run('conv2d', {
            x: t([N, cg, H, W], xs),
            weight: t([og, cg, kh, kw], c.w.data.slice(g * og * cg * kh * kw, (g + 1) * og * cg * kh * kw)),
            bias: t([og], c.b.data.slice(g * og, (g + 1) * og)),
          }, params).y;
          for (let n = 0; n < N; n++)
            for (let o = 0; o < og; o++)
              for (let i = 0; i < part.shape[2]; i++)
                for (let j = 0; j < part.shape[3]; j++) expect(full.get(n, g * og + o, i, j)).toBe(part.get(n, o, i, j));
        }
      }),
      { seed: 104, numRuns: 80 },
    );
  });

  it('"same" keeps the spatial size for any kernel and dilation (stride 1)', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const out = run('conv2d', { x: c.x, weight: c.w }, { padding: 'same', dilation: [c.dh, c.dw], groups: c.g }).y;
        expect(out.shape.slice(2)).toEqual(c.x.shape.slice(2));
      }),
      { seed: 105, numRuns: 100 },
    );
  });
});

describe('conv2d rejects impossible params with a named error', () => {
  const x = t([1, 4, 5, 5], ones(100));
  const w = t([2, 4, 3, 3], ones(72));
  it.each([
    [{ stride: 0 }, '/params/stride', 'INVALID_PARAMS'],
    [{ stride: [1, -1] }, '/params/stride', 'INVALID_PARAMS'],
    [{ padding: -1 }, '/params/padding', 'INVALID_PARAMS'],
    [{ padding: [1, 2, 3] }, '/params/padding', 'INVALID_PARAMS'],
    [{ dilation: 0 }, '/params/dilation', 'INVALID_PARAMS'],
    [{ groups: 3 }, '/params/groups', 'INVALID_PARAMS'],
    [{ padding: 'same', stride: 2 }, '/params/padding', 'INVALID_PARAMS'],
    [{ strides: 2 }, '/params/strides', 'INVALID_PARAMS'],
    [{ dilation: 3 }, '/inputs/weight/shape', 'INVALID_INPUTS'],
  ])('%j → %s', (params, path, code) => {
    const e = errorOf(() => run('conv2d', { x, weight: w }, params));
    expect(e.path).toBe(path);
    expect(e.code).toBe(code);
  });

  it('names the channel mismatch and the bias shape', () => {
    expect(errorOf(() => run('conv2d', { x, weight: t([2, 3, 3, 3], ones(54)) })).message).toContain('weight has 3 input channels per group but x has C = 4');
    expect(errorOf(() => run('conv2d', { x, weight: w, bias: t([3], [1, 2, 3]) })).path).toBe('/inputs/bias/shape');
    expect(errorOf(() => run('conv2d', { x: t([4, 5, 5], ones(100)), weight: w })).message).toContain('x must have rank 4');
  });
});
