import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { errorOf, range, run, t, y } from './helpers/run.js';

const ramp16 = t([1, 1, 4, 4], range(16, 1));

describe('max pooling', () => {
  it('ceil mode (ONNX backend test maxpool_2d_ceil: 4×4, k3, s2 → [[11,12],[15,16]])', () => {
    expect(y('maxPool2d', { x: ramp16 }, { kernelSize: 3, stride: 2, ceilMode: true })).toEqual([11, 12, 15, 16]);
    expect(y('maxPool2d', { x: ramp16 }, { kernelSize: 3, stride: 2 })).toEqual([11]);
  });

  it('stride defaults to the kernel; indices are h·W + w within each plane', () => {
    const r = run('maxPool2d', { x: ramp16 }, { kernelSize: 2, returnIndices: true });
    expect(Array.from(r.y.data)).toEqual([6, 8, 14, 16]);
    expect(Array.from(r.indices.data)).toEqual([5, 7, 13, 15]);
  });

  it('padding is never read: all-negative input keeps its max', () => {
    const x = t([1, 1, 2, 2], [-5, -6, -7, -8]);
    expect(y('maxPool2d', { x }, { kernelSize: 2, stride: 1, padding: 1 })).toEqual([-5, -5, -6, -5, -5, -6, -7, -7, -8]);
  });

  it('NaN propagates; ties go to the first cell in row-major order', () => {
    const r = run('maxPool2d', { x: t([1, 1, 2, 2], [1, NaN, 3, 2]) }, { kernelSize: 2, returnIndices: true });
    expect(Number.isNaN(r.y.data[0])).toBe(true);
    expect(r.indices.data[0]).toBe(1);
    const tie = run('maxPool2d', { x: t([1, 1, 2, 2], [1, 7, 7, 7]) }, { kernelSize: 2, returnIndices: true });
    expect(tie.indices.data[0]).toBe(1);
  });

  it('dilation and 1-D', () => {
    // dilation 2, k 2 on a 4×4 ramp: taps (0,0),(0,2),(2,0),(2,2) from each start
    expect(y('maxPool2d', { x: ramp16 }, { kernelSize: 2, stride: 1, dilation: 2 })).toEqual([11, 12, 15, 16]);
    expect(y('maxPool1d', { x: t([1, 1, 5], [1, 5, 2, 4, 3]) }, { kernelSize: 2, ceilMode: true })).toEqual([5, 4, 3]);
  });

  it('commutes with increasing maps (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 36, maxLength: 36 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), (xs, k, s, ceil) => {
        const f = (v: number) => v * v * v + 2 * v - 1;
        const a = y('maxPool2d', { x: t([1, 1, 6, 6], xs) }, { kernelSize: k, stride: s, ceilMode: ceil });
        const b = y('maxPool2d', { x: t([1, 1, 6, 6], xs.map(f)) }, { kernelSize: k, stride: s, ceilMode: ceil });
        expect(b).toEqual(a.map(f));
      }),
      { seed: 31, numRuns: 100 },
    );
  });

  it('rejects padding of more than half the kernel (PyTorch), naming the param', () => {
    expect(errorOf(() => run('maxPool2d', { x: ramp16 }, { kernelSize: 2, padding: 2 })).path).toBe('/params/padding');
    // torch 1.13 rejects max_pool2d(x, 2, padding=2, dilation=3): the undilated kernel counts
    expect(errorOf(() => run('maxPool2d', { x: ramp16 }, { kernelSize: 2, padding: 2, dilation: 3 })).message).toContain('half the kernel size 2');
    expect(errorOf(() => run('maxPool2d', { x: ramp16 }, { kernelSize: 3, padding: [1, 2], dilation: 2 })).path).toBe('/params/padding');
    expect(run('maxPool2d', { x: ramp16 }, { kernelSize: 3, padding: 1, dilation: 2 }).y.shape).toEqual([1, 1, 1, 1]);
    expect(errorOf(() => run('maxPool2d', { x: ramp16 }, {})).path).toBe('/params/kernelSize');
    expect(errorOf(() => run('maxPool2d', { x: t([1, 1, 2, 2], [1, 2, 3, 4]) }, { kernelSize: 3 })).path).toBe('/inputs/x/shape');
  });
});

describe('average pooling', () => {
  it('ceil mode (ONNX backend test averagepool_2d_ceil: [[6,7.5],[12,13.5]])', () => {
    expect(y('avgPool2d', { x: ramp16 }, { kernelSize: 3, stride: 2, ceilMode: true })).toEqual([6, 7.5, 12, 13.5]);
  });

  it('last window starting on the padding (ONNX: one output = sum/9)', () => {
    expect(y('avgPool2d', { x: t([1, 1, 2, 2], [1, 2, 3, 4]) }, { kernelSize: 3, stride: 3, padding: 1, ceilMode: true })).toEqual([10 / 9]);
  });

  it('countIncludePad divides by the padded window; false by the valid cells; divisorOverride wins', () => {
    const ones = t([1, 1, 3, 3], new Array(9).fill(1));
    const p = { kernelSize: 3, stride: 1, padding: 1 };
    expect(y('avgPool2d', { x: ones }, p)).toEqual([4 / 9, 6 / 9, 4 / 9, 6 / 9, 1, 6 / 9, 4 / 9, 6 / 9, 4 / 9]);
    expect(y('avgPool2d', { x: ones }, { ...p, countIncludePad: false })).toEqual(new Array(9).fill(1));
    expect(y('avgPool2d', { x: ones }, { ...p, divisorOverride: 2 })).toEqual([2, 3, 2, 3, 4.5, 3, 2, 3, 2]);
  });

  it('a ceil-mode overhang is not counted in the divisor (PyTorch)', () => {
    expect(y('avgPool1d', { x: t([1, 1, 5], [1, 2, 3, 4, 5]) }, { kernelSize: 2, ceilMode: true })).toEqual([1.5, 3.5, 5]);
  });

  it('sum, Lp (no abs: PyTorch), adaptive and global pools', () => {
    expect(y('sumPool2d', { x: ramp16 }, { kernelSize: 2 })).toEqual([14, 22, 46, 54]);
    expect(y('lpPool2d', { x: t([1, 1, 2, 2], [3, 4, 0, 0]) }, { normType: 2, kernelSize: 2 })).toEqual([5]);
    expect(y('lpPool2d', { x: t([1, 1, 1, 2], [-3, 1]) }, { normType: 1, kernelSize: [1, 2] })).toEqual([-2]);
    // 5 → 3 bins: [0,2), [1,4), [3,5)
    expect(y('adaptiveAvgPool2d', { x: t([1, 1, 1, 5], [1, 2, 3, 4, 5]) }, { outputSize: [1, 3] })).toEqual([1.5, 3, 4.5]);
    expect(y('adaptiveMaxPool2d', { x: t([1, 1, 1, 5], [1, 2, 3, 4, 5]) }, { outputSize: [1, 3] })).toEqual([2, 4, 5]);
    expect(y('globalAvgPool2d', { x: ramp16 })).toEqual([8.5]);
    expect(run('globalMaxPool2d', { x: ramp16 }).y.shape).toEqual([1, 1, 1, 1]);
  });
});

describe('unpooling and upsampling (values from the PyTorch documentation)', () => {
  it('maxUnpool2d puts the maxima back (MaxUnpool2d example)', () => {
    const pooled = run('maxPool2d', { x: ramp16 }, { kernelSize: 2, returnIndices: true });
    expect(y('maxUnpool2d', { x: pooled.y, indices: pooled.indices }, { kernelSize: 2 })).toEqual([0, 0, 0, 0, 0, 6, 0, 8, 0, 0, 0, 0, 0, 14, 0, 16]);
    expect(run('maxUnpool2d', { x: pooled.y, indices: pooled.indices }, { kernelSize: 2, outputSize: [5, 5] }).y.shape).toEqual([1, 1, 5, 5]);
    expect(errorOf(() => run('maxUnpool2d', { x: pooled.y, indices: pooled.indices }, { kernelSize: 2, outputSize: [7, 4] })).path).toBe('/params/outputSize');
  });

  it('unpool(pool(x)) keeps each maximum at its place and zeros elsewhere (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -9, max: 9 }), { minLength: 36, maxLength: 36 }), fc.integer({ min: 1, max: 3 }), (xs, k) => {
        const x = t([1, 1, 6, 6], xs);
        const p = run('maxPool2d', { x }, { kernelSize: k, returnIndices: true });
        const u = run('maxUnpool2d', { x: p.y, indices: p.indices }, { kernelSize: k, outputSize: [6, 6] }).y.data;
        const kept = new Set(Array.from(p.indices.data));
        for (let i = 0; i < 36; i++) expect(u[i]).toBe(kept.has(i) ? xs[i] : 0);
      }),
      { seed: 41, numRuns: 100 },
    );
  });

  const x22 = t([1, 1, 2, 2], [1, 2, 3, 4]);
  it('nearest ×2', () => {
    expect(y('upsample2d', { x: x22 }, { scaleFactor: 2 })).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
  it('bilinear ×2, alignCorners false', () => {
    expect(y('upsample2d', { x: x22 }, { scaleFactor: 2, mode: 'bilinear' })).toEqual([1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
  });
  it('bilinear ×2, alignCorners true', () => {
    const got = y('upsample2d', { x: x22 }, { scaleFactor: 2, mode: 'bilinear', alignCorners: true });
    [1, 4 / 3, 5 / 3, 2, 5 / 3, 2, 7 / 3, 8 / 3, 7 / 3, 8 / 3, 3, 10 / 3, 3, 10 / 3, 11 / 3, 4].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 15));
  });
  it('size instead of scaleFactor; exactly one of the two', () => {
    expect(run('upsample2d', { x: x22 }, { size: [3, 5] }).y.shape).toEqual([1, 1, 3, 5]);
    expect(y('upsample2d', { x: t([1, 1, 1, 2], [1, 2]) }, { size: [1, 3] })).toEqual([1, 1, 2]);
    expect(errorOf(() => run('upsample2d', { x: x22 }, { size: 3, scaleFactor: 2 })).path).toBe('/params/scaleFactor');
    expect(errorOf(() => run('upsample2d', { x: x22 }, {})).path).toBe('/params/size');
    expect(errorOf(() => run('upsample2d', { x: x22 }, { scaleFactor: 2, alignCorners: true })).path).toBe('/params/alignCorners');
  });
});
