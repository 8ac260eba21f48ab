import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { errorOf, range, run, t, y } from './helpers/run.js';

describe('transposed convolution', () => {
  it('2×2 input, 2×2 ones kernel, stride 1 → each value stamped through the kernel', () => {
    expect(y('convTranspose2d', { x: t([1, 1, 2, 2], [1, 2, 3, 4]), weight: t([1, 1, 2, 2], [1, 1, 1, 1]) })).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
  });

  it('1-D stride 2: copies of the filter weighted by each input, summed where they overlap', () => {
    // x = [1, 2, 3], w = [1, 10, 100], s = 2: out length (3−1)·2 + 3 = 7
    expect(y('convTranspose1d', { x: t([1, 1, 3], [1, 2, 3]), weight: t([1, 1, 3], [1, 10, 100]) }, { stride: 2 })).toEqual([1, 10, 102, 20, 203, 30, 300]);
  });

  it('outputPadding adds a row at the high end holding only the bias; padding crops', () => {
    const x = t([1, 1, 3], [1, 2, 3]);
    const w = t([1, 1, 2], [1, 1]);
    expect(y('convTranspose1d', { x, weight: w, bias: t([1], [0.5]) }, { stride: 2, outputPadding: 1 })).toEqual([1.5, 1.5, 2.5, 2.5, 3.5, 3.5, 0.5]);
    expect(y('convTranspose1d', { x, weight: w }, { stride: 2, padding: 1 })).toEqual([1, 2, 2, 3]);
  });

  it('rejects outputPadding ≥ both stride and dilation, and bad channel counts', () => {
    const x = t([1, 2, 2, 2], range(8));
    expect(errorOf(() => run('convTranspose2d', { x, weight: t([2, 1, 2, 2], range(8)) }, { stride: 2, outputPadding: 2 })).path).toBe('/params/outputPadding');
    expect(y('convTranspose2d', { x, weight: t([2, 1, 2, 2], range(8)) }, { stride: 1, dilation: 2, outputPadding: 1 }).length).toBe(5 * 5); // O = weight.shape[1]·groups = 1
    expect(errorOf(() => run('convTranspose2d', { x, weight: t([3, 1, 2, 2], range(12)) })).path).toBe('/inputs/weight/shape/0');
    expect(errorOf(() => run('convTranspose2d', { x, weight: t([2, 1, 2, 2], range(8)) }, { groups: 3 })).path).toBe('/params/groups');
  });

  it('is the adjoint of conv2d: ⟨conv2d(x, w), y⟩ = ⟨x, convTranspose2d(y, w)⟩ (property)', () => {
    const dyadic = (seed: number, n: number) => {
      let s = seed;
      return Array.from({ length: n }, () => {
        s = (s * 48271) % 2147483647;
        return Math.round(((s / 2147483647) * 2 - 1) * 16) / 4;
      });
    };
    fc.assert(
      fc.property(
        fc.record({
          N: fc.integer({ min: 1, max: 2 }),
          G: fc.integer({ min: 1, max: 2 }),
          cg: fc.integer({ min: 1, max: 2 }),
          og: fc.integer({ min: 1, max: 2 }),
          k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
          p: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
          extra: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
          seed: fc.integer({ min: 1, max: 1e9 }),
        }),
        ({ N, G, cg, og, k, s, d, p, extra, seed }) => {
          const C = G * cg;
          const O = G * og;
          const H = d[0] * (k[0] - 1) + 1 + extra[0];
          const W = d[1] * (k[1] - 1) + 1 + extra[1];
          const x = t([N, C, H, W], dyadic(seed, N * C * H * W));
          const w = t([O, cg, k[0], k[1]], dyadic(seed + 1, O * cg * k[0] * k[1]));
          const cp = { stride: s, padding: p, dilation: d, groups: G };
          const cx = run('conv2d', { x, weight: w }, cp).y;
          // the transposed conv must land back on H×W: outputPadding makes up what the stride dropped
          const op = [0, 1].map((a) => [H, W][a] + 2 * p[a] - (d[a] * (k[a] - 1) + 1) - (cx.shape[2 + a] - 1) * s[a]);
          const yy = t(cx.shape, dyadic(seed + 2, cx.data.length));
          // conv weight [O, C/G, kh, kw] read as a transposed-conv weight [C_in = O, O/G = C/G, kh, kw]
          const back = run('convTranspose2d', { x: yy, weight: w }, { ...cp, outputPadding: op }).y;
          expect(back.shape).toEqual([N, C, H, W]);
          const lhs = Array.from(cx.data).reduce((acc, v, i) => acc + v * yy.data[i], 0);
          const rhs = x.data.reduce((acc, v, i) => acc + v * back.data[i], 0);
          expect(lhs).toBe(rhs); // dyadic values: both sides exact
        },
      ),
      { seed: 51, numRuns: 200 },
    );
  });
});

describe('batch normalisation', () => {
  // exercises.md: two samples, one channel, 2×2 maps; γ = 1.5, β = 0, ε = 0 → μ = 4.5, σ² = 5.25
  const x = t([2, 1, 2, 2], [1, 3, 2, 4, 5, 7, 6, 8]);
  const bnEx = () => run('batchNorm', { x, weight: t([1], [1.5]), bias: t([1], [0]), runningMean: t([1], [0]), runningVar: t([1], [1]) }, { training: true, eps: 0 });

  it('the worked example of the notes', () => {
    const r = bnEx();
    expect(Array.from(r.batchMean.data)).toEqual([4.5]);
    expect(Array.from(r.batchVar.data)).toEqual([5.25]);
    const want = [-2.2913, -0.982, -1.6366, -0.3273, 0.3273, 1.6366, 0.982, 2.2913];
    Array.from(r.y.data).forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    expect(r.y.data[0]).toBeCloseTo((1.5 * (1 - 4.5)) / Math.sqrt(5.25), 15);
  });

  it('updates running statistics with PyTorch momentum and the unbiased variance (or biased, ONNX)', () => {
    const r = bnEx();
    expect(r.runningMean.data[0]).toBeCloseTo(0.9 * 0 + 0.1 * 4.5, 15);
    expect(r.runningVar.data[0]).toBeCloseTo(0.9 * 1 + 0.1 * 6, 15); // unbiased: 5.25·8/7 = 6
    const onnx = run('batchNorm', { x, runningMean: t([1], [0]), runningVar: t([1], [1]) }, { training: true, eps: 0, runningVarEstimator: 'biased', momentum: 0.1 });
    expect(onnx.runningVar.data[0]).toBeCloseTo(0.9 + 0.1 * 5.25, 15);
  });

  it('inference uses the running statistics', () => {
    expect(y('batchNorm', { x: t([1, 2], [3, 3]), runningMean: t([2], [1, 3]), runningVar: t([2], [4, 1]) }, { eps: 0 })).toEqual([1, 0]);
    expect(errorOf(() => run('batchNorm', { x: t([1, 2], [3, 3]) })).path).toBe('/inputs/runningMean');
  });

  it('one value per channel in training is an error', () => {
    expect(errorOf(() => run('batchNorm', { x: t([1, 2], [3, 3]) }, { training: true })).message).toContain('more than 1 value per channel');
  });

  it('works on [N,C], [N,C,L], [N,C,H,W]: per-channel mean 0 and variance 1 after training-mode BN', () => {
    for (const shape of [[4, 2], [2, 2, 3], [2, 2, 2, 2]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const out = run('batchNorm', { x: t(shape, range(n).map((i) => (i * 37) % 11)) }, { training: true, eps: 0 }).y;
      const C = shape[1];
      const inner = n / shape[0] / C;
      for (let c = 0; c < C; c++) {
        const vals: number[] = [];
        for (let b = 0; b < shape[0]; b++) for (let k = 0; k < inner; k++) vals.push(out.data[(b * C + c) * inner + k]);
        const m = vals.reduce((a, b) => a + b, 0) / vals.length;
        expect(m).toBeCloseTo(0, 13);
        expect(vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length).toBeCloseTo(1, 13);
      }
    }
  });
});

describe('layer, instance, group and local response normalisation', () => {
  it('layerNorm over the last dim by hand', () => {
    // [1, 2, 3]: μ = 2, σ² = 2/3
    const s = Math.sqrt(2 / 3);
    expect(y('layerNorm', { x: t([1, 3], [1, 2, 3]) }, { normalizedShape: [3], eps: 0 })).toEqual([-1 / s, 0, 1 / s]);
    expect(errorOf(() => run('layerNorm', { x: t([1, 3], [1, 2, 3]) }, { normalizedShape: [4] })).path).toBe('/params/normalizedShape');
  });

  it('groupNorm with G = C is instanceNorm; with G = 1 it is layerNorm over (C, H, W) (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 2 * 4 * 6, maxLength: 2 * 4 * 6 }), (C, G0, xs) => {
        const shape = [2, C, 2, 3];
        const x = t(shape, xs.slice(0, 12 * C));
        const w = t([C], range(C, 1));
        const b = t([C], range(C).map((v) => v / 2));
        expect(y('groupNorm', { x, weight: w, bias: b }, { numGroups: C })).toEqual(y('instanceNorm', { x, weight: w, bias: b }));
        expect(y('groupNorm', { x }, { numGroups: 1 })).toEqual(y('layerNorm', { x }, { normalizedShape: [C, 2, 3] }));
        void G0;
      }),
      { seed: 61, numRuns: 100 },
    );
  });

  it('groupNorm needs G dividing C', () => {
    expect(errorOf(() => run('groupNorm', { x: t([1, 3, 1, 1], [1, 2, 3]) }, { numGroups: 2 })).path).toBe('/params/numGroups');
  });

  it('localResponseNorm by hand (α divided by size, window c−⌊n/2⌋ … c+⌊(n−1)/2⌋)', () => {
    // C = 3, size 2: window for c is {c−1, c}
    const out = y('localResponseNorm', { x: t([1, 3, 1, 1], [1, 2, 3]) }, { size: 2, alpha: 1, beta: 1, k: 1 });
    expect(out).toEqual([1 / (1 + 0.5 * 1), 2 / (1 + 0.5 * 5), 3 / (1 + 0.5 * 13)]);
  });
});
