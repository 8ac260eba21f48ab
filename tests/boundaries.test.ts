/**
 * Set-valued expectations beyond NMS (issue 13): where float rounding at the judged precision can
 * flip a RoIAlign sample's inclusion, a RoIPool bin edge, a max-pool argmax or a nearest index, the
 * float answer of a correct implementation (torchvision / PyTorch transcribed with Math.fround,
 * tests/helpers/torch32.ts) passes check, grade and conformance with the case marked ambiguous, and
 * a genuinely wrong answer still fails. Each case is worked by hand in its comment.
 */
import { describe, expect, it } from 'vitest';
import { getOp, resolveParams, type Inputs, type Outputs, type Params } from '../src/registry.js';
import '../src/ops/index.js';
import { fromData, type Arr } from '../src/tensor.js';
import { climb } from '../src/grading/ladder.js';
import { checkRaw } from '../src/cases.js';
import { runConformance } from '../src/conformance/run.js';
import type { TargetAdapter } from '../src/conformance/adapter.js';
import { PROBES } from '../src/conformance/probes.js';
import { enumerateChoices } from '../src/reference/boundaries.js';
import { roiAlignT, roiPoolT } from './helpers/torch32.js';
import { maxPool2dRef } from '../src/reference/pooling.js';

const F32 = { kind: 'bound' as const, precision: 'float32' as const };
const F64 = { kind: 'bound' as const, precision: 'float64' as const };
const answer = (o: Record<string, Arr>) => ({
  ok: true as const,
  response: { outputs: Object.fromEntries(Object.entries(o).map(([k, a]) => [k, { shape: a.shape.slice(), dtype: k === 'indices' ? 'int64' : 'float64', data: Array.from(a.data as ArrayLike<number>) }])) },
});
function judge(opName: string, inputs: Inputs, params: Params, got: Record<string, Arr>, policy: { kind: 'bound'; precision: 'float32' | 'float64' } = F32) {
  const op = getOp(opName);
  const p = resolveParams(op, params);
  return climb(op, inputs, p, op.reference(inputs, p), answer(got) as never, policy);
}
/** `check --precision float32` on a case whose expected values are `got`. */
async function check(opName: string, inputs: Inputs, params: Params, got: Record<string, Arr>, precision: 'float32' | 'float64' = 'float32') {
  const enc = (a: Arr, dtype = 'float64') => ({ shape: a.shape.slice(), dtype, data: Array.from(a.data as ArrayLike<number>) });
  const value = {
    id: 'c',
    op: opName,
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, a]) => [k, enc(a)])),
    params,
    expected: Object.fromEntries(Object.entries(got).map(([k, a]) => [k, enc(a, k === 'indices' ? 'int64' : 'float64')])),
  };
  return checkRaw({ value, index: 0 } as never, 'reference', precision);
}
const arr = (shape: number[], data: number[]) => fromData(data, shape);

describe('enumerating variants', () => {
  it('fewest flips first, capped', () => {
    expect(enumerateChoices([2, 2], 10).choices).toEqual([[0, 0], [1, 0], [0, 1], [1, 1]]);
    const c = enumerateChoices([2, 2, 2, 2, 2, 2, 2], 8);
    expect(c.choices.length).toBe(8);
    expect(c.capped).toBe(true);
    expect(c.choices.slice(1).every((v) => v.filter(Boolean).length === 1)).toBe(true);
  });
});

describe('roiAlign: a sample within rounding of the map border', () => {
  // H = 2. y: start = 1.5476…·0.7 ≈ 1.0833, roi ≈ 3.6667, one sample per bin at start + bin/2 ≈ 2 = H.
  // Exactly it lies just above 2 (dropped: the exact reference gives 0 for bin row 0); torchvision's
  // float32 arithmetic puts it at 2 and keeps it (reading row 1, clamped).
  const x = arr([1, 1, 2, 6], Array.from({ length: 12 }, (_, i) => i - 4));
  const boxes = arr([1, 5], [0, -1.5476190476190477, 1.5476190476190477, 7.678571428571429, 6.7857142857142865]);
  const params = { outputSize: [2, 4], spatialScale: 0.7, samplingRatio: 1, aligned: false };
  const inputs = { x, boxes };
  const torch = roiAlignT(x, boxes, { ph: 2, pw: 4, spatialScale: 0.7, samplingRatio: 1, aligned: false });

  it('the float32 answer differs from the exact one, passes grade and check, and is marked ambiguous', async () => {
    const op = getOp('roiAlign');
    const exact = Array.from(op.reference(inputs, resolveParams(op, params)).y.data);
    expect(exact.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(Array.from(torch.data).slice(0, 4)).toEqual([2, 3.3385417461395264, 4.953125, 6.5677080154418945]);
    const g = judge('roiAlign', inputs, params, { y: torch });
    expect(g.passed).toBe(true);
    expect(g.ambiguous).toContain('within rounding of the border 2');
    const c = await check('roiAlign', inputs, params, { y: torch });
    expect(c.ok).toBe(true);
    expect(c.ambiguous).toContain('box 0, y');
  });

  it('a wrong answer on the same case still fails (half-pixel offset flipped; values off by one)', async () => {
    const wrong = roiAlignT(x, boxes, { ph: 2, pw: 4, spatialScale: 0.7, samplingRatio: 1, aligned: true });
    expect(judge('roiAlign', inputs, params, { y: wrong }).passed).toBe(false);
    const bumped = fromData(Array.from(torch.data, (v, i) => (i === 1 ? v + 1e-3 : v)), torch.shape);
    expect(judge('roiAlign', inputs, params, { y: bumped }).passed).toBe(false);
    expect((await check('roiAlign', inputs, params, { y: bumped })).ok).toBe(false);
  });

  it('a sample exactly at −1 computed exactly in float32 is not ambiguous: dropping it fails', () => {
    // box −1.5 … −0.5 (scale 1): roi = max(1, 1) = 1, one sample at −1.0 exactly in every precision; kept, reads x[0, 0]
    const xs = arr([1, 1, 3, 3], [7, 1, 2, 3, 4, 5, 6, 7, 8]);
    const b = arr([1, 5], [0, -1.5, -1.5, -0.5, -0.5]);
    const p = { outputSize: 1, samplingRatio: 1 };
    const t = roiAlignT(xs, b, { ph: 1, pw: 1, spatialScale: 1, samplingRatio: 1, aligned: false });
    expect(Array.from(t.data)).toEqual([7]);
    expect(judge('roiAlign', { x: xs, boxes: b }, p, { y: t }).passed).toBe(true);
    const drop = judge('roiAlign', { x: xs, boxes: b }, p, { y: arr([1, 1, 1, 1], [0]) });
    expect(drop.passed).toBe(false);
    expect(drop.ambiguous).toBeUndefined();
  });

  it('the same case at float64: torchvision in float64 rounds its own way and passes too', () => {
    const t64 = roiAlignT(x, boxes, { ph: 2, pw: 4, spatialScale: 0.7, samplingRatio: 1, aligned: false }, (v) => v);
    expect(judge('roiAlign', inputs, params, { y: t64 }, F64).passed).toBe(true);
  });
});

describe('roiPool: a bin edge within rounding of an integer', () => {
  // rows 0 … 28 (size 29), 11 bins: the last bin ends at ⌈11·29/11⌉ = 29 exactly, but in float32
  // 11·fl(29/11) = 29.0000019 and ⌈·⌉ = 30, so torchvision reads row 29 too (torchvision 0.14 gives 100).
  const x = arr([1, 1, 32, 1], Array.from({ length: 32 }, (_, r) => (r === 29 ? 100 : r)));
  const boxes = arr([1, 5], [0, 0, 0, 0, 28]);
  const params = { outputSize: [11, 1] };
  const torch = roiPoolT(x, boxes, 11, 1, 1);

  it('the float32 answer (last bin 100, exact 28) passes, marked ambiguous', async () => {
    expect(Array.from(torch.data)).toEqual([2, 5, 7, 10, 13, 15, 18, 21, 23, 26, 100]);
    const op = getOp('roiPool');
    expect(Array.from(op.reference({ x, boxes }, resolveParams(op, params)).y.data).at(-1)).toBe(28);
    const g = judge('roiPool', { x, boxes }, params, { y: torch });
    expect(g.passed).toBe(true);
    expect(g.ambiguous).toContain('bin row 10 may end at 30');
    expect((await check('roiPool', { x, boxes }, params, { y: torch })).ambiguous).toContain('11·29/11 = 29');
  });

  it('without the +1 size (a real mistake) it fails', () => {
    const wrong = roiPoolT(x, arr([1, 5], [0, 0, 0, 0, 27]), 11, 1, 1);
    expect(judge('roiPool', { x, boxes }, params, { y: wrong }).passed).toBe(false);
  });

  it('an edge that is exact in float32 is not ambiguous (size 8, 4 bins: 2, 4, 6, 8)', () => {
    const b = arr([1, 5], [0, 0, 0, 0, 7]);
    const op = getOp('roiPool');
    expect(op.admissible!({ x, boxes: b }, resolveParams(op, { outputSize: [4, 1] }), 2 ** -24)).toBeUndefined();
  });
});

describe('maxPool2d indices: a tie made by rounding the inputs', () => {
  // window [1, 1 + 2⁻³⁰]: exactly the second is the maximum (index 1); in float32 both are 1 and the
  // first wins (index 0). The value 1 is within one rounding of 1 + 2⁻³⁰.
  const x = arr([1, 1, 1, 2], [1, 1 + 2 ** -30]);
  const params = { kernelSize: [1, 2], returnIndices: true };
  const f32 = maxPool2dRef(fromData(Array.from(x.data, Math.fround), x.shape), { kernel: [1, 2], stride: [1, 2], dilation: [1, 1], pads: { begin: [0, 0], end: [0, 0] }, ceilMode: false });

  it('float32 answers index 0 and passes at float32, marked ambiguous; not at float64', async () => {
    expect(Array.from(f32.indices.data)).toEqual([0]);
    const g = judge('maxPool2d', { x }, params, { y: f32.y, indices: f32.indices });
    expect(g.passed).toBe(true);
    expect(g.ambiguous).toContain('round to the same 1');
    expect((await check('maxPool2d', { x }, params, { y: f32.y, indices: f32.indices })).ok).toBe(true);
    expect(judge('maxPool2d', { x }, params, { y: f32.y, indices: f32.indices }, F64).passed).toBe(false);
  });

  it('an exact tie keeps the first-wins rule: the last index fails', () => {
    const tie = arr([1, 1, 1, 2], [3, 3]);
    const g = judge('maxPool2d', { x: tie }, params, { y: arr([1, 1, 1, 1], [3]), indices: arr([1, 1, 1, 1], [1]) });
    expect(g.passed).toBe(false);
  });
});

describe('upsample2d nearest: PyTorch float32 index against the exact one', () => {
  // 26 rows to 44: dst 22 → 22·26/44 = 13 exactly, but PyTorch computes ⌊22·fl(26/44)⌋ = ⌊12.9999990⌋ = 12
  // (torch 1.13: rows 20…24 read 11 12 12 13 14). The reference is PyTorch's; an exact index is admissible.
  const x = arr([1, 1, 26, 1], Array.from({ length: 26 }, (_, i) => i));
  const params = { size: [44, 1] };
  it('the reference is PyTorch, and an exact implementation passes as ambiguous', async () => {
    const op = getOp('upsample2d');
    const ref = Array.from(op.reference({ x }, resolveParams(op, params)).y.data);
    expect(ref.slice(20, 25)).toEqual([11, 12, 12, 13, 14]);
    const exact = fromData(Array.from({ length: 44 }, (_, d) => Math.min(Math.floor((d * 26) / 44), 25)), [1, 1, 44, 1]);
    expect(exact.data[22]).toBe(13);
    const g = judge('upsample2d', { x }, params, { y: exact });
    expect(g.passed).toBe(true);
    expect(g.ambiguous).toContain("row 22: the source index is 12 in PyTorch's float32 arithmetic, 13 exactly");
    expect((await check('upsample2d', { x }, params, { y: exact }, 'float64')).ambiguous).toContain('row 22');
  });
  it('rounding to nearest instead of flooring still fails', () => {
    const rounded = fromData(Array.from({ length: 44 }, (_, d) => Math.min(Math.round((d * 26) / 44), 25)), [1, 1, 44, 1]);
    expect(judge('upsample2d', { x }, params, { y: rounded }).passed).toBe(false);
  });
  it('scaleFactor giving twice the size halves, as torch 1.13 (rows 0 0 1 1 …)', () => {
    const op = getOp('upsample2d');
    const x4 = arr([1, 1, 4, 1], [0, 1, 2, 3]);
    expect(Array.from(op.reference({ x: x4 }, resolveParams(op, { scaleFactor: [2.0000001, 1] })).y.data)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });
});

/** A float32 library made of the transcriptions: conformance must find nothing wrong with it. */
const torchLike: TargetAdapter = {
  name: 'torch-like-f32',
  description: 'torchvision/PyTorch transcribed in float32',
  precision: 'float32',
  ops: {
    roiAlign: {
      run: (i, p) => {
        const [ph, pw] = typeof p.outputSize === 'number' ? [p.outputSize, p.outputSize] : (p.outputSize as number[]);
        return { y: roiAlignT(i.x, i.boxes, { ph, pw, spatialScale: p.spatialScale as number, samplingRatio: p.samplingRatio as number, aligned: p.aligned as boolean }) };
      },
    },
    roiPool: {
      run: (i, p) => {
        const [ph, pw] = typeof p.outputSize === 'number' ? [p.outputSize, p.outputSize] : (p.outputSize as number[]);
        return { y: roiPoolT(i.x, i.boxes, ph, pw, p.spatialScale as number) };
      },
    },
  },
};

describe('conformance: boundary probes and random cases', () => {
  it('the probes include cases on every boundary', () => {
    const ids = PROBES.map((p) => p.id);
    for (const f of ['probe/boundary/roiAlign-', 'probe/boundary/roiPool-', 'probe/boundary/maxPool2d-', 'probe/boundary/upsample2d-', 'probe/boundary/nms-']) expect(ids.some((i) => i.startsWith(f))).toBe(true);
  });
  it('a torchvision-like float32 roiAlign and roiPool pass every case, the probes ambiguous', async () => {
    const r = await runConformance(torchLike, { random: 40, seed: 'boundaries', shrink: false });
    expect(r.failures.map((f) => `${f.id}: ${f.message}`)).toEqual([]);
    const amb = (r.ambiguous ?? []).map((a) => (typeof a === 'string' ? a : (a as { id: string }).id)).join(' ');
    expect(amb).toContain('probe/boundary/roiAlign');
    expect(amb).toContain('probe/boundary/roiPool');
  });
});

export type { Outputs };
