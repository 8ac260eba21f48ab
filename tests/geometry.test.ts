/**
 * The geometry module: the SAME_UPPER / SAME_LOWER padding forms (ONNX auto_pad, any stride) by
 * hand-worked numbers and against PyTorch (F.pad, then the op with no padding), the 1-D lift, and
 * the padding form of a report.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { autoPad, lift1d, paddingForm, resolvePadding } from '../src/geometry.js';
import { getOp, resolveParams } from '../src/registry.js';
import { runOp } from '../src/cases.js';
import { gradCheck } from '../src/gradcheck.js';
import { Rng } from '../src/rng.js';
import '../src/ops/index.js';
import { errorOf, range, run, t, y } from './helpers/run.js';

describe('SAME_UPPER / SAME_LOWER', () => {
  it.each([
    // in, k, s, d → [begin, end] of SAME_UPPER; SAME_LOWER is the mirror
    [5, 2, 2, 1, [0, 1]], // ⌈5/2⌉ = 3 outputs: (3−1)·2 + 1 + 1 − 5 = 1
    [4, 3, 2, 1, [0, 1]], // (2−1)·2 + 2 + 1 − 4 = 1
    [7, 3, 3, 2, [2, 2]], // (3−1)·3 + 4 + 1 − 7 = 4
    [6, 2, 1, 3, [1, 2]], // (6−1)·1 + 3 + 1 − 6 = 3
    [6, 2, 2, 1, [0, 0]], // (3−1)·2 + 1 + 1 − 6 = 0
    [5, 1, 3, 1, [0, 0]], // (2−1)·3 + 0 + 1 − 5 = −1 → 0
    [3, 5, 1, 1, [2, 2]], // stride 1: d·(k−1) = 4, as "same"
  ])('in %i, k %i, stride %i, dilation %i: SAME_UPPER pads %j', (inSize, k, s, d, upper) => {
    expect(autoPad('SAME_UPPER', inSize, k, s, d)).toEqual(upper);
    expect(autoPad('SAME_LOWER', inSize, k, s, d)).toEqual([upper[1], upper[0]]);
    const p = resolvePadding('SAME_UPPER', 1, [k], [d], [s], '/params/padding', [inSize]);
    const out = Math.floor((inSize + p.begin[0] + p.end[0] - d * (k - 1) - 1) / s) + 1;
    expect(out).toBe(Math.ceil(inSize / s)); // the point of the form
  });

  it('conv1d and maxPool1d by hand: the extra pad at the end (UPPER) or at the start (LOWER)', () => {
    const x = t([1, 1, 5], [1, 2, 3, 4, 5]);
    const w = t([1, 1, 2], [1, 10]);
    // UPPER reads [1 2 3 4 5 0]: 1+20, 3+40, 5+0; LOWER reads [0 1 2 3 4 5]: 0+10, 2+30, 4+50
    expect(y('conv1d', { x, weight: w }, { stride: 2, padding: 'SAME_UPPER' })).toEqual([21, 43, 5]);
    expect(y('conv1d', { x, weight: w }, { stride: 2, padding: 'SAME_LOWER' })).toEqual([10, 32, 54]);
    const xp = t([1, 1, 5], [1, 5, 2, 4, 3]);
    expect(y('maxPool1d', { x: xp }, { kernelSize: 2, padding: 'SAME_UPPER' })).toEqual([5, 4, 3]);
    expect(y('maxPool1d', { x: xp }, { kernelSize: 2, padding: 'SAME_LOWER' })).toEqual([1, 5, 4]);
  });

  it('conv2d on 4×4 with a 3×3 kernel, stride 2: 2×2 out, the pad row/column after (UPPER) or before (LOWER)', () => {
    const x = t([1, 1, 4, 4], range(16, 1));
    const w = t([1, 1, 3, 3], new Array(9).fill(1));
    // UPPER: windows at rows/cols {0..2}, {2..4 (4 is pad)}; LOWER: {pad, 0, 1}, {1..3}
    expect(y('conv2d', { x, weight: w }, { stride: 2, padding: 'SAME_UPPER' })).toEqual([54, 45, 72, 54]); // 1+2+3+5+6+7+9+10+11, 3+4+7+8+11+12, 9+10+11+13+14+15, 11+12+15+16
    expect(y('conv2d', { x, weight: w }, { stride: 2, padding: 'SAME_LOWER' })).toEqual([14, 30, 57, 99]); // 1+2+5+6, 2+3+4+6+7+8, 5+6+9+10+13+14, 6+7+8+10+11+12+14+15+16
    expect(y('conv2d', { x, weight: w }, { stride: 2, padding: 'SAME_UPPER' })).toEqual(y('conv2d', { x, weight: w }, { stride: 2, padding: [0, 1, 0, 1] }));
  });

  it('is refused where it means nothing, naming the field: transposed conv, unpooling; "same" with a stride points to it', () => {
    const x = t([1, 1, 3, 3], range(9));
    expect(errorOf(() => run('convTranspose2d', { x, weight: t([1, 1, 2, 2], [1, 1, 1, 1]) }, { padding: 'SAME_UPPER' }))).toMatchObject({ code: 'INVALID_PARAMS', path: '/params/padding' });
    expect(errorOf(() => run('conv2d', { x, weight: t([1, 1, 2, 2], [1, 1, 1, 1]) }, { padding: 'same', stride: 2 })).message).toContain('SAME_UPPER / SAME_LOWER take any stride');
    expect(errorOf(() => run('conv2d', { x, weight: t([1, 1, 2, 2], [1, 1, 1, 1]) }, { padding: 'SAME_MIDDLE' }))).toMatchObject({ code: 'INVALID_PARAMS', path: '/params/padding' });
  });

  it('conv2dBackward and maxPool2dBackward with SAME_UPPER agree with central differences', () => {
    const rng = new Rng('geometry/backward');
    const r = (shape: number[]) => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng.next() * 2 - 1) * 2) });
    const conv = getOp('conv2dBackward');
    // x 5×4, kernel 2×3, stride 2: ⌈5/2⌉ × ⌈4/2⌉ = 3×2 (pads rows [0, 1], cols [0, 1] for UPPER)
    const convIn = run2({ x: r([1, 2, 5, 4]), weight: r([2, 2, 2, 3]), bias: r([2]), dy: r([1, 2, 3, 2]) });
    for (const padding of ['SAME_UPPER', 'SAME_LOWER']) {
      const entries = gradCheck(conv, convIn, resolveParams(conv, { stride: 2, padding }));
      expect(entries.map((e) => e.output)).toEqual(['dx', 'dweight', 'dbias']);
      for (const e of entries) expect(e.maxRelError, `${padding} ${e.output}`).toBeLessThan(1e-6);
    }
    const pool = getOp('maxPool2dBackward');
    const poolIn = run2({ x: r([1, 1, 5, 5]), dy: r([1, 1, 3, 3]) });
    for (const e of gradCheck(pool, poolIn, resolveParams(pool, { kernelSize: 2, padding: 'SAME_LOWER' }))) expect(e.maxRelError).toBeLessThan(1e-6);
  });

  it('the simd and accelerated backends take the form too (within the float32 bound of the reference)', async () => {
    const op = getOp('conv2d');
    const rng = new Rng('geometry/backends');
    const vals = (n: number) => Array.from({ length: n }, () => rng.next() * 2 - 1);
    const inputs = run2({ x: { shape: [1, 2, 7, 6], data: Float64Array.from(vals(84)) }, weight: { shape: [3, 2, 3, 2], data: Float64Array.from(vals(36)) } });
    for (const padding of ['SAME_UPPER', 'SAME_LOWER']) {
      const params = resolveParams(op, { stride: [2, 3], dilation: [1, 2], padding });
      const ref = op.reference(inputs, params).y;
      expect(ref.shape).toEqual([1, 3, 4, 2]); // ⌈7/2⌉, ⌈6/3⌉
      for (const backend of ['simd', 'accelerated'] as const) {
        const got = (await runOp(op, inputs, params, backend)).y;
        expect(got.shape).toEqual(ref.shape);
        Array.from(got.data).forEach((v, k) => expect(Math.abs(v - ref.data[k]), `${backend} ${padding} #${k}`).toBeLessThan(1e-5));
      }
    }
  });
});

/** Plain {shape, data} to the registry's arrays. */
import { fromData, type Arr } from '../src/tensor.js';
function run2(o: Record<string, { shape: number[]; data: Float64Array }>): Record<string, Arr> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromData(v.data, v.shape)]));
}

const PY = '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch) console.warn(`\n*** SKIPPED: ${PY} cannot import torch; SAME_UPPER / SAME_LOWER are not checked against PyTorch ***\n`);

const TORCH = `
import json, sys, torch
import torch.nn.functional as F
out = []
for c in json.load(sys.stdin):
    x = torch.tensor(c['x'], dtype=torch.float64).reshape(c['xs'])
    # the pads from ONNX's auto_pad rule, worked out here independently of the library
    pads = []
    for n, k, s, d in zip(c['xs'][2:], c['k'], c['stride'], c['dilation']):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2) if c['form'] == 'SAME_UPPER' else (total - total // 2, total // 2))
    (t, b), (l, r) = pads
    if c['op'] == 'conv2d':
        w = torch.tensor(c['w'], dtype=torch.float64).reshape(c['ws'])
        y = F.conv2d(F.pad(x, (l, r, t, b)), w, stride=c['stride'], dilation=c['dilation'])
    elif c['op'] == 'maxPool2d':
        y = F.max_pool2d(F.pad(x, (l, r, t, b), value=float('-inf')), c['k'], stride=c['stride'], dilation=c['dilation'])
    else:
        y = F.avg_pool2d(F.pad(x, (l, r, t, b)), c['k'], stride=c['stride'])
    out.append({'shape': list(y.shape), 'data': y.flatten().tolist()})
print(json.dumps(out))
`;

describe.skipIf(!hasTorch)('SAME_UPPER / SAME_LOWER against PyTorch (F.pad, then the op unpadded)', () => {
  it('conv2d, maxPool2d and avgPool2d (countIncludePad) on seeded shapes, strides and dilations', { timeout: 60000 }, () => {
    const rng = new Rng('geometry/torch');
    const cases: { op: string; inputs: Record<string, { shape: number[]; data: Float64Array }>; params: Record<string, unknown>; torch: Record<string, unknown> }[] = [];
    const vals = (n: number) => Float64Array.from({ length: n }, () => (rng.next() * 2 - 1) * 3);
    for (let n = 0; n < 24; n++) {
      const op = (['conv2d', 'maxPool2d', 'avgPool2d'] as const)[n % 3];
      const padding = n % 2 ? 'SAME_UPPER' : 'SAME_LOWER';
      const k = [rng.int(1, 4), rng.int(1, 4)];
      const stride = [rng.int(1, 3), rng.int(1, 3)];
      const dilation = op === 'avgPool2d' ? [1, 1] : [rng.int(1, 2), rng.int(1, 2)];
      const xs = [1, rng.int(1, 2), rng.int(3, 8), rng.int(3, 8)];
      const x = { shape: xs, data: vals(xs.reduce((a, b) => a * b, 1)) };
      const g = resolvePadding(padding, 2, k, dilation, stride, '/params/padding', xs.slice(2));
      // PyTorch's pools allow pad ≤ ⌊k/2⌋ only; the catalogue keeps that rule, so draw again past it
      if (op !== 'conv2d' && [...g.begin, ...g.end].some((p, i) => p > Math.floor(k[i % 2] / 2))) continue;
            if (op === 'conv2d') {
        const ws = [rng.int(1, 2), xs[1], ...k];
        const w = { shape: ws, data: vals(ws.reduce((a, b) => a * b, 1)) };
        cases.push({ op, inputs: { x, weight: w }, params: { stride, dilation, padding }, torch: { op, x: Array.from(x.data), xs, w: Array.from(w.data), ws, k, form: padding, stride, dilation } });
      } else {
        const params = op === 'maxPool2d' ? { kernelSize: k, stride, dilation, padding } : { kernelSize: k, stride, padding, countIncludePad: true };
        cases.push({ op, inputs: { x }, params, torch: { op, x: Array.from(x.data), xs, k, form: padding, stride, dilation } });
      }
    }
    expect(cases.length).toBeGreaterThan(12);
    const r = spawnSync(PY, ['-c', TORCH], { input: JSON.stringify(cases.map((c) => c.torch)), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const theirs = JSON.parse(r.stdout) as { shape: number[]; data: number[] }[];
    cases.forEach((c, n) => {
      const op = getOp(c.op);
      const ours = op.reference(run2(c.inputs), resolveParams(op, c.params)).y;
      expect(ours.shape, `${c.op} ${JSON.stringify(c.params)}`).toEqual(theirs[n].shape);
      expect(ours.shape.slice(2)).toEqual(c.inputs.x.shape.slice(2).map((v, i) => Math.ceil(v / (c.params.stride as number[])[i])));
      theirs[n].data.forEach((v, k) => expect(ours.data[k]).toBeCloseTo(v, 10));
    });
  });
});

describe('the 1-D lift and the padding form', () => {
  it('lift1d puts a neutral height axis in front of every per-axis field', () => {
    expect(lift1d({ kernel: [3], stride: [2], dilation: [4], pads: { begin: [1], end: [2] }, ceilMode: true })).toEqual({ kernel: [1, 3], stride: [1, 2], dilation: [1, 4], pads: { begin: [0, 1], end: [0, 2] }, ceilMode: true });
    expect(lift1d({ stride: [2], dilation: [1], pads: { begin: [0], end: [0] }, outputPadding: [1], groups: 2 })).toEqual({ stride: [1, 2], dilation: [1, 1], pads: { begin: [0, 0], end: [0, 0] }, outputPadding: [0, 1], groups: 2 });
  });

  it('paddingForm reads [ph, pw] as symmetric in 2-D and [begin, end] by its values in 1-D', () => {
    expect([paddingForm('SAME_UPPER', 2), paddingForm(1, 2), paddingForm([1, 2], 2), paddingForm([1, 2], 1), paddingForm([1, 1, 2, 2], 2), paddingForm([1, 0, 1, 0], 2)]).toEqual(['SAME_UPPER', 'int', 'pair', 'asymmetric', 'pair', 'asymmetric']);
  });
});
