/**
 * batchNorm with eps 0 on a constant channel (issue 13): σ = 0, x̂ = 0/0, so that channel's y (training),
 * dx and dweight are mathematically undefined. The reference gives NaN, PyTorch 0 (its invstd is 0
 * when var + eps is 0) and β for y: any value is admissible there (an `any` block), the result says
 * why, and a wrong value on a non-constant channel of the same case still fails.
 */
import { describe, expect, it } from 'vitest';
import { getOp, resolveParams } from '../src/registry.js';
import '../src/ops/index.js';
import { fromData } from '../src/tensor.js';
import { admissibleMatch, allowances } from '../src/judge/index.js';
import { checkRaw } from '../src/cases.js';
import { climb } from '../src/grading/ladder.js';
import { runConformance } from '../src/conformance/run.js';
import type { TargetAdapter } from '../src/conformance/adapter.js';
import { Rng } from '../src/rng.js';
import { zeroSigmaChannels } from '../src/ops/normalization.js';

const t = (shape: number[], data: number[]) => fromData(data, shape);
const op = getOp('batchNormBackward');
// x [3, 2]: channel 0 is constant (1, 1, 1), channel 1 is 2, 3, −1
const inputs = { x: t([3, 2], [1, 2, 1, 3, 1, -1]), weight: t([2], [1.5, 2]), bias: t([2], [0.5, 1]), dy: t([3, 2], [1, 0.5, -2, 1, 0.25, 2]) };
const params = resolveParams(op, { training: true, eps: 0 });
// torch 1.13, float64: F.batch_norm(x, None, None, w, b, training=True, eps=0.0).backward(dy)
const TORCH = { dx: [0, -0.543090835767279, -0, 0.40731812682545904, 0, 0.1357727089418199], dweight: [0, -1.568929081105472], dbias: [-0.75, 3.5] };
const answer = (dx: number[], dweight: number[]) => ({ dx: t([3, 2], dx), dweight: t([2], dweight), dbias: t([2], TORCH.dbias) });
const allowedAt = (u: 'float32' | 'float64') => {
  const a = allowances(op, inputs, params, op.reference(inputs, params), { kind: 'bound', precision: u });
  return (k: string) => a[k];
};
const wrongDx = TORCH.dx.map((v, i) => (i === 1 ? v * 1.01 : v));

describe('batchNormBackward, eps 0, a constant channel', () => {
  it('the reference: NaN on the constant channel, PyTorch’s numbers on the other', () => {
    const r = op.reference(inputs, params);
    const dx = Array.from(r.dx.data as Float64Array);
    expect([dx[0], dx[2], dx[4]].every(Number.isNaN)).toBe(true);
    [1, 3, 5].forEach((k) => expect(dx[k]).toBeCloseTo(TORCH.dx[k], 14));
    expect(Number.isNaN(r.dweight.data[0] as number)).toBe(true);
    expect(r.dweight.data[1] as number).toBeCloseTo(TORCH.dweight[1], 14);
    expect(Array.from(r.dbias.data as Float64Array)).toEqual(TORCH.dbias);
    expect(zeroSigmaChannels(inputs.x, 0, 2 ** -53)).toEqual([{ c: 0, value: 1 }]);
    // eps > 0: σ = √eps, nothing undefined
    expect(zeroSigmaChannels(inputs.x, 1e-5, 2 ** -24)).toEqual([]);
  });

  it('PyTorch’s 0, NaN or any other value on that channel is admissible, at float64 and float32, with the reason', () => {
    for (const u of ['float64', 'float32'] as const) {
      const unit = u === 'float64' ? 2 ** -53 : 2 ** -24;
      for (const [dx0, dw0] of [[0, 0], [NaN, NaN], [42, -Infinity]]) {
        const dx = TORCH.dx.map((v, i) => (i % 2 === 0 ? dx0 : v));
        const why = admissibleMatch(op, inputs, params, unit, answer(dx, [dw0, TORCH.dweight[1]]), allowedAt(u));
        expect(why, `${u} ${dx0}`).toContain('channel 0: eps is 0 and every x of the channel is 1, so σ = 0');
        expect(why).toContain('mathematically undefined');
      }
    }
  });

  it('a wrong dx or dweight on the non-constant channel, or a wrong dbias, is not admissible', () => {
    expect(admissibleMatch(op, inputs, params, 2 ** -53, answer(wrongDx, TORCH.dweight), allowedAt('float64'))).toBeUndefined();
    expect(admissibleMatch(op, inputs, params, 2 ** -24, answer(wrongDx, TORCH.dweight), allowedAt('float32'))).toBeUndefined();
    expect(admissibleMatch(op, inputs, params, 2 ** -53, answer(TORCH.dx, [0, -1.6]), allowedAt('float64'))).toBeUndefined();
    expect(admissibleMatch(op, inputs, params, 2 ** -53, { ...answer(TORCH.dx, TORCH.dweight), dbias: t([2], [-0.75, 3.6]) }, allowedAt('float64'))).toBeUndefined();
    // the other channel's allowance stays finite and small beside the NaN gradients
    const a = allowedAt('float32')('dx');
    expect(a(1, TORCH.dx[1])).toBeGreaterThan(0);
    expect(a(1, TORCH.dx[1])).toBeLessThan(1e-4);
  });

  const caseWith = (dx: (number | string)[], dweight: (number | string)[]) => ({
    op: 'batchNormBackward',
    inputs: { x: { shape: [3, 2], data: [1, 2, 1, 3, 1, -1] }, weight: { shape: [2], data: [1.5, 2] }, bias: { shape: [2], data: [0.5, 1] }, dy: { shape: [3, 2], data: [1, 0.5, -2, 1, 0.25, 2] } },
    params: { training: true, eps: 0 },
    expected: { dx: { shape: [3, 2], data: dx }, dweight: { shape: [2], data: dweight }, dbias: { shape: [2], data: TORCH.dbias } },
  });
  const check = (c: unknown) => checkRaw({ value: c, index: 0, where: '#0' }, 'reference');

  it('check: PyTorch’s answer passes, marked ambiguous; NaN passes (it is the reference); a wrong channel 1 fails', async () => {
    const torch = await check(caseWith(TORCH.dx, TORCH.dweight));
    expect(torch.ok).toBe(true);
    expect(torch.ambiguous).toMatch(/^ambiguous \(the result is mathematically undefined there, so any value is accepted\): channel 0: eps is 0/);
    const nan = await check(caseWith(TORCH.dx.map((v, i) => (i % 2 === 0 ? 'NaN' : v)), ['NaN', TORCH.dweight[1]]));
    expect(nan.ok).toBe(true);
    const wrong = await check(caseWith(wrongDx, TORCH.dweight));
    expect(wrong.ok).toBe(false);
    expect(wrong.message).toContain('dx: mismatched elements');
  });

  it('grade: PyTorch’s answer passes, marked ambiguous; a wrong channel 1 fails', () => {
    const reply = (dx: number[], dw: number[]) => ({ ok: true as const, response: { outputs: { dx: { shape: [3, 2], data: dx }, dweight: { shape: [2], data: dw }, dbias: { shape: [2], data: TORCH.dbias } } } });
    const expected = op.reference(inputs, params);
    const c = climb(op, inputs, params, expected, reply(TORCH.dx, TORCH.dweight) as never, { kind: 'bound', precision: 'float32' });
    expect(c.passed).toBe(true);
    expect(c.ambiguous).toContain('channel 0');
    expect(climb(op, inputs, params, expected, reply(wrongDx, TORCH.dweight) as never, { kind: 'bound', precision: 'float32' }).passed).toBe(false);
  });

  it('forward batchNorm (training): PyTorch’s y = β on the constant channel is admissible, a wrong y elsewhere is not', () => {
    const fwd = getOp('batchNorm');
    const fi = { x: inputs.x, weight: inputs.weight, bias: inputs.bias };
    const fp = resolveParams(fwd, { training: true, eps: 0 });
    const r = fwd.reference(fi, fp);
    // the op's own float32 allowance: per channel, so the σ = 0 channel does not make the others' infinite
    const a = allowances(fwd, fi, fp, r, { kind: 'bound', precision: 'float32' });
    const tight = (k: string) => a[k];
    // torch 1.13, float64: y = [[0.5, 1.7845], [0.5, 2.9612], [0.5, -1.7456]]; channel 1: (x − 4/3)/√(26/9)·2 + 1
    const y1 = [2, 3, -1].map((v) => ((v - 4 / 3) / Math.sqrt(26 / 9)) * 2 + 1);
    const y = fromData([0.5, y1[0], 0.5, y1[1], 0.5, y1[2]], [3, 2]);
    const rest = { batchMean: r.batchMean, batchVar: r.batchVar };
    expect(admissibleMatch(fwd, fi, fp, 2 ** -53, { y, ...rest }, tight)).toContain('its y is undefined');
    const bad = fromData([0.5, y1[0] + 0.01, 0.5, y1[1], 0.5, y1[2]], [3, 2]);
    expect(admissibleMatch(fwd, fi, fp, 2 ** -53, { y: bad, ...rest }, tight)).toBeUndefined();
    expect(admissibleMatch(fwd, fi, fp, 2 ** -24, { y: bad, ...rest }, tight)).toBeUndefined();
    expect(a.y(1, y1[0])).toBeLessThan(1e-4);
    // inference reads the running statistics: nothing is undefined
    expect(fwd.admissible!(fi, resolveParams(fwd, { training: false, eps: 0 }), 2 ** -53)).toBeUndefined();
  });

  it('conformance: a PyTorch-like target (0 where σ = 0) passes the case, reported ambiguous', async () => {
    const target: TargetAdapter = {
      name: 'torch-like',
      description: 'PyTorch’s answer to the one case',
      precision: 'float64',
      ops: { batchNormBackward: { run: () => answer(TORCH.dx, TORCH.dweight) } },
    };
    const r = await runConformance(target, { random: 0, cases: [{ id: 'eps0', op: 'batchNormBackward', inputs, params: { training: true, eps: 0 } }], shrink: false });
    expect(r.failures).toEqual([]);
    expect(JSON.stringify(r.ambiguous)).toContain('channel 0');
  });
});

describe('the batchNorm generator avoids eps 0 with a constant channel', () => {
  it('over 2000 seeded cases: eps 0 still drawn, never with a channel constant in float32', () => {
    for (const name of ['batchNorm', 'batchNormBackward']) {
      const g = getOp(name).generate!;
      const rng = new Rng(`zero-sigma/${name}`);
      let eps0 = 0;
      for (let k = 0; k < 2000; k++) {
        const c = g(rng);
        if (c.params.eps !== 0) continue;
        eps0++;
        expect(zeroSigmaChannels(c.inputs.x, 0, 2 ** -24), `${name} #${k}`).toEqual([]);
      }
      expect(eps0).toBeGreaterThan(200);
    }
  });
});
