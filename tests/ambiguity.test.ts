/**
 * Set-valued expectations at decision boundaries (issue 13): a float32 NMS that rounds a decision
 * at the threshold the other way is correct and passes check, grade and conformance, with the
 * case reported ambiguous; a genuinely wrong one (suppressing at IoU ≥ threshold) still fails.
 */
import { describe, expect, it } from 'vitest';
import { getOp, resolveParams, type Inputs, type Params } from '../src/registry.js';
import '../src/ops/index.js';
import { fromData } from '../src/tensor.js';
import { runConformance } from '../src/conformance/run.js';
import type { TargetAdapter } from '../src/conformance/adapter.js';
import { admissibleMatch } from '../src/judge/index.js';
import { climb } from '../src/grading/ladder.js';
const t = (shape: number[], data: number[]) => fromData(data, shape);

type Cmp = (iou: number, thr: number) => boolean;
/** Greedy NMS in float32 arithmetic (xyxy), the comparison given. */
function nms32(inputs: Inputs, p: Params, suppress: Cmp): number[] {
  const b = Array.from(inputs.boxes.data, Math.fround);
  const s = Array.from(inputs.scores.data);
  const f = Math.fround;
  const order = s.map((_, i) => i).filter((i) => p.scoreThreshold === undefined || s[i] > (p.scoreThreshold as number)).sort((i, j) => s[j] - s[i] || i - j);
  const side = (lo: number, hi: number) => Math.max(f(hi - lo), 0);
  const iou = (k: number, i: number) => {
    const inter = f(side(Math.max(b[4 * k], b[4 * i]), Math.min(b[4 * k + 2], b[4 * i + 2])) * side(Math.max(b[4 * k + 1], b[4 * i + 1]), Math.min(b[4 * k + 3], b[4 * i + 3])));
    const u = f(f(f(side(b[4 * k], b[4 * k + 2]) * side(b[4 * k + 1], b[4 * k + 3])) + f(side(b[4 * i], b[4 * i + 2]) * side(b[4 * i + 1], b[4 * i + 3]))) - inter);
    return u > 0 ? f(inter / u) : 0;
  };
  const keep: number[] = [];
  for (const i of order) {
    if (p.maxOutput !== undefined && keep.length >= (p.maxOutput as number)) break;
    if (keep.every((k) => !suppress(iou(k, i), p.iouThreshold as number))) keep.push(i);
  }
  return keep;
}

const target = (name: string, suppress: Cmp): TargetAdapter => ({
  name,
  description: `float32 NMS (${name})`,
  precision: 'float32',
  ops: {
    nms: {
      unsupported: (_i, p) => (p.boxFormat !== 'xyxy' || p.pixelInclusive ? 'xyxy only' : undefined),
      run: (i, p) => {
        const k = nms32(i, p, suppress);
        return { keep: fromData(k, [k.length]) };
      },
    },
  },
});

// torchvision: the float IoU compared with the double threshold; a pure float32 one rounds the threshold too
const torchLike = target('torch-like', (iou, thr) => iou > thr);
const rounded = target('rounded', (iou, thr) => iou > Math.fround(thr));
const geq = target('geq', (iou, thr) => iou >= thr);

const op = getOp('nms');
const keepOf = (a: TargetAdapter, inputs: Inputs, params: Params) => a.ops.nms.run(inputs, resolveParams(op, params)) as { keep: ReturnType<typeof fromData> };

describe('NMS at the threshold: every outcome rounding can flip to is accepted', () => {
  // [0,0,5,1] and [0,0,3,1]: IoU exactly 3/5
  const at06 = { boxes: t([2, 4], [0, 0, 5, 1, 0, 0, 3, 1]), scores: t([2], [0.9, 0.8]) };
  // [0,0,2,1] and [0,0,1,1]: IoU exactly 1/2, computed exactly in float32, threshold 0.5 exact too
  const at05 = { boxes: t([2, 4], [0, 0, 2, 1, 0, 0, 1, 1]), scores: t([2], [0.9, 0.8]) };

  it('IoU 3/5 at 0.6: torchvision-style float32 suppresses (0.6f > 0.6), the reference keeps; both admissible', () => {
    const p = resolveParams(op, { iouThreshold: 0.6 });
    expect(Array.from(op.reference(at06, p).keep.data)).toEqual([0, 1]);
    expect(Array.from(keepOf(torchLike, at06, p).keep.data)).toEqual([0]);
    const why = admissibleMatch(op, at06, p, 2 ** -24, keepOf(torchLike, at06, p), () => () => 0);
    expect(why).toContain('boxes 0 and 1');
    // at float64 the comparison is not ambiguous: 0.6 > 0.6 is false either way
    expect(admissibleMatch(op, at06, p, 2 ** -53, keepOf(torchLike, at06, p), () => () => 0)).toBeUndefined();
  });

  it('IoU 1/2 at 0.5, all exact in float32: suppressing (IoU ≥ threshold) is wrong', () => {
    const p = resolveParams(op, { iouThreshold: 0.5 });
    expect(Array.from(keepOf(geq, at05, p).keep.data)).toEqual([0]);
    expect(admissibleMatch(op, at05, p, 2 ** -24, keepOf(geq, at05, p), () => () => 0)).toBeUndefined();
  });

  it('grade: the torch-like answer passes and is marked ambiguous; the ≥ answer fails', () => {
    const p = resolveParams(op, { iouThreshold: 0.6 });
    const expected = op.reference(at06, p);
    const answer = (k: number[]) => ({ ok: true as const, response: { outputs: { keep: { shape: [k.length], dtype: 'int64', data: k } } } });
    const c = climb(op, at06, p, expected, answer([0]) as never, { kind: 'bound', precision: 'float32' });
    expect(c.passed).toBe(true);
    expect(c.ambiguous).toContain('threshold 0.6');
    const p5 = resolveParams(op, { iouThreshold: 0.5 });
    const bad = climb(op, at05, p5, op.reference(at05, p5), answer([0]) as never, { kind: 'bound', precision: 'float32' });
    expect(bad.passed).toBe(false);
  });

  it('conformance: both correct float32 NMS pass every case; the ≥ one is still found', async () => {
    for (const a of [torchLike, rounded]) {
      const r = await runConformance(a, { random: 60, seed: 'ambiguity', shrink: false });
      expect(r.failures.map((f) => f.id)).toEqual([]);
      expect(r.rows.reduce((n, w) => n + w.passed, 0)).toBeGreaterThan(40);
    }
    const r = await runConformance(torchLike, { random: 60, seed: 'ambiguity', shrink: false });
    expect(r.ambiguous?.length).toBeGreaterThan(0);
    const g = await runConformance(geq, { random: 60, seed: 'ambiguity', shrink: false });
    expect(g.failures.length).toBeGreaterThan(0);
  });
});

describe('hardswishBackward at the kink x = 3', () => {
  // x = [3, 1, 3], dy = [2, 2, -4]: PyTorch's vectorised kernel gives dy at 3, its scalar tail 1.5·dy;
  // elsewhere dy·(2x + 3)/6 = 2·5/6 = 5/3.
  const op = getOp('hardswishBackward');
  const inputs = { x: t([3], [3, 1, 3]), dy: t([3], [2, 2, -4]) };
  const p = resolveParams(op, {});
  const tight = () => (_k: number, e: number) => 1e-12 * Math.abs(e);
  it('the reference is the vectorised kernel; the scalar one (1.5·dy) and a mix of the two are admissible', () => {
    expect(Array.from(op.reference(inputs, p).dx.data as Float64Array)).toEqual([2, 5 / 3, -4]);
    for (const dx of [[3, 5 / 3, -6], [3, 5 / 3, -4], [2, 5 / 3, -6]]) {
      expect(admissibleMatch(op, inputs, p, 2 ** -53, { dx: t([3], dx) }, tight), String(dx)).toMatch(/hardswish's kink/);
    }
  });
  it('a wrong slope at the kink, or a wrong value beside it, is not admissible', () => {
    expect(admissibleMatch(op, inputs, p, 2 ** -53, { dx: t([3], [4, 5 / 3, -4]) }, tight)).toBeUndefined(); // 2·dy
    expect(admissibleMatch(op, inputs, p, 2 ** -53, { dx: t([3], [3, 2, -6]) }, tight)).toBeUndefined(); // 1 where 5/3
    expect(admissibleMatch(getOp('hardswishBackward'), { x: t([1], [2.5]), dy: t([1], [1]) }, p, 2 ** -53, { dx: t([1], [1.5]) }, tight)).toBeUndefined(); // no kink at 2.5
  });
});
