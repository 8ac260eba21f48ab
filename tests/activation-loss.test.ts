import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { errorOf, run, t, y } from './helpers/run.js';
import { Rng } from '../src/rng.js';

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe('activations', () => {
  it('relu, leakyRelu (PyTorch slope 0.01 by default)', () => {
    expect(y('relu', { x: t([4], [-2, 0, 3, NaN]) }).slice(0, 3)).toEqual([0, 0, 3]);
    expect(Number.isNaN(y('relu', { x: t([1], [NaN]) })[0])).toBe(true);
    expect(y('leakyRelu', { x: t([3], [-2, 0, 3]) })).toEqual([-0.02, 0, 3]);
    expect(y('leakyRelu', { x: t([1], [-2]) }, { negativeSlope: 0.3 })).toEqual([-0.6]);
  });

  it('hardswish by hand: 0 up to −3, x from 3, x(x + 3)/6 between (rounded once); −∞ → NaN as PyTorch', () => {
    expect(y('hardswish', { x: t([9], [-5, -3, -1, 0, 0.5, 1, 2, 3, 7]) })).toEqual([-0, -0, -1 / 3, 0, 1.75 / 6, 4 / 6, 10 / 6, 3, 7]);
    // 0.1·3.1/6 in one rounding: 0.1 is 3602879701896397/2^55; the exact quotient rounds to this double
    const x = 0.1;
    const num = 3602879701896397n * (3602879701896397n + 3n * 2n ** 55n); // x(x+3)·2^110
    const want = Number((num * 2n ** 60n) / (6n * 2n ** 110n)) / 2 ** 60; // 60 extra bits, then one rounding
    expect(y('hardswish', { x: t([1], [x]) })[0]).toBe(want);
    const special = y('hardswish', { x: t([3], [-Infinity, Infinity, NaN]) });
    expect([Number.isNaN(special[0]), special[1], Number.isNaN(special[2])]).toEqual([true, Infinity, true]);
    // the backward: 0 below −3, (2x + 3)/6 from −3 up to 3, 1 from 3 (PyTorch's vectorised kernel)
    expect(y('hardswishBackward', { x: t([6], [-4, -3, 0, 1.5, 3, 4]), dy: t([6], [2, 2, 2, 2, 2, 2]) }, {}, 'dx')).toEqual([0, -1, 1, 2, 2, 2]);
  });

  it.skipIf(!hasTorch)('hardswish and its backward agree with PyTorch (float64, 200 seeded values across the pieces)', { timeout: 30000 }, () => {
    const rng = new Rng('hardswish/torch');
    const xs = [-3, 3, ...Array.from({ length: 198 }, () => (rng.next() * 2 - 1) * 8)];
    const dy = xs.map(() => rng.next() * 2 - 1);
    const py = `import json, sys, torch, torch.nn.functional as F
d = json.load(sys.stdin)
x = torch.tensor(d['x'], dtype=torch.float64, requires_grad=True)
y = F.hardswish(x)
y.backward(torch.tensor(d['dy'], dtype=torch.float64))
print(json.dumps({'y': y.tolist(), 'dx': x.grad.tolist()}))`;
    const r = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify({ x: xs, dy }), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const theirs = JSON.parse(r.stdout) as { y: number[]; dx: number[] };
    const ours = y('hardswish', { x: t([xs.length], xs) });
    const dx = y('hardswishBackward', { x: t([xs.length], xs), dy: t([xs.length], dy) }, {}, 'dx');
    // PyTorch rounds two or three times (x + 3, the product, the division); the reference once
    ours.forEach((v, i) => expect(Math.abs(v - theirs.y[i]), `x = ${xs[i]}`).toBeLessThanOrEqual(4 * Number.EPSILON * Math.max(Math.abs(v), 1e-300)));
    dx.forEach((v, i) => expect(Math.abs(v - theirs.dx[i]), `x = ${xs[i]}`).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(v)));
  });

  it('sigmoid and tanh, saturating without overflow', () => {
    expect(y('sigmoid', { x: t([3], [0, -1000, 1000]) })).toEqual([0.5, 0, 1]);
    expect(y('sigmoid', { x: t([1], [2]) })[0]).toBeCloseTo(0.8807970779778823, 15);
    expect(y('tanh', { x: t([2], [0.5, -30]) })).toEqual([Math.tanh(0.5), -1]);
  });

  it('softmax of [1, 2, 3] (known values) sums to 1', () => {
    const s = y('softmax', { x: t([1, 3], [1, 2, 3]) });
    [0.09003057317038046, 0.24472847105479767, 0.6652409557748219].forEach((v, i) => expect(s[i]).toBeCloseTo(v, 15));
  });

  it('logSoftmax is max-shifted: no overflow at ±1000', () => {
    expect(y('logSoftmax', { x: t([1, 2], [-1000, 1000]) })).toEqual([-2000, 0]);
    expect(y('softmax', { x: t([1, 2], [1000, 1000]) })).toEqual([0.5, 0.5]);
    const ls = y('logSoftmax', { x: t([1, 3], [1000, 1001, 1002]) });
    expect(ls[2]).toBeCloseTo(-0.4076059644443806, 12);
  });

  it('softmax along another dim, negative dims', () => {
    const x = t([2, 2], [1, 2, 3, 4]);
    const d0 = y('softmax', { x }, { dim: 0 });
    expect(d0[0] + d0[2]).toBeCloseTo(1, 15);
    expect(y('softmax', { x }, { dim: -1 })).toEqual(y('softmax', { x }, { dim: 1 }));
    expect(errorOf(() => run('softmax', { x }, { dim: 2 })).path).toBe('/params/dim');
  });

  it('softmax sums to 1 along its dim (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 12 }), (xs) => {
        const s = y('softmax', { x: t([1, xs.length], xs) });
        return Math.abs(s.reduce((a, b) => a + b, 0) - 1) < 1e-14 && s.every((v) => v >= 0 && v <= 1);
      }),
      { seed: 9, numRuns: 300 },
    );
  });
});

describe('dense', () => {
  it('linear: y = x·Wᵀ + b', () => {
    expect(y('linear', { x: t([2, 3], [1, 2, 3, 4, 5, 6]), weight: t([2, 3], [1, 0, -1, 0.5, 0.5, 0.5]), bias: t([2], [10, 0]) })).toEqual([8, 3, 8, 7.5]);
    expect(errorOf(() => run('linear', { x: t([1, 3], [1, 2, 3]), weight: t([2, 2], [1, 2, 3, 4]) })).path).toBe('/inputs/weight/shape/1');
  });

  it('flatten with startDim / endDim', () => {
    expect(run('flatten', { x: t([2, 3, 4, 5], new Array(120).fill(0)) }).y.shape).toEqual([2, 60]);
    expect(run('flatten', { x: t([2, 3, 4, 5], new Array(120).fill(0)) }, { startDim: 0, endDim: 1 }).y.shape).toEqual([6, 4, 5]);
    expect(errorOf(() => run('flatten', { x: t([2, 3], [1, 2, 3, 4, 5, 6]) }, { startDim: 1, endDim: 0 })).path).toBe('/params/endDim');
  });

  it('dropout: identity in inference, x·mask/(1−p) in training', () => {
    const x = t([4], [1, 2, 3, 4]);
    expect(y('dropout', { x })).toEqual([1, 2, 3, 4]);
    expect(y('dropout', { x, mask: t([4], [1, 0, 1, 0]) }, { training: true, p: 0.5 })).toEqual([2, 0, 6, 0]);
    expect(y('dropout', { x, mask: t([4], [1, 1, 1, 1]) }, { training: true, p: 1 })).toEqual([0, 0, 0, 0]);
    expect(errorOf(() => run('dropout', { x }, { training: true })).path).toBe('/inputs/mask');
    expect(errorOf(() => run('dropout', { x }, { p: 1.5 })).path).toBe('/params/p');
  });
});

describe('losses', () => {
  const logits = t([1, 3], [1, 2, 3]);
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  it('cross-entropy with a class index = log Σ e^z − z_t', () => {
    expect(y('crossEntropy', { logits, target: t([1], [2]) }, {}, 'loss')[0]).toBeCloseTo(lse - 3, 15);
  });

  it('label smoothing mixes in the uniform target', () => {
    const eps = 0.1;
    const want = (1 - eps) * (lse - 3) + (eps / 3) * (lse - 1 + lse - 2 + lse - 3);
    expect(y('crossEntropy', { logits, target: t([1], [2]) }, { labelSmoothing: eps }, 'loss')[0]).toBeCloseTo(want, 15);
    // the same loss from a probability target with the smoothing folded in
    const probs = t([1, 3], [eps / 3, eps / 3, 1 - eps + eps / 3]);
    expect(y('crossEntropy', { logits, target: probs }, {}, 'loss')[0]).toBeCloseTo(want, 14);
  });

  it('reductions and ignoreIndex', () => {
    const lg = t([3, 2], [0, 0, 1, 0, 0, 1]);
    const tg = t([3], [0, -100, 1]);
    const none = y('crossEntropy', { logits: lg, target: tg }, { reduction: 'none' }, 'loss');
    expect(none[1]).toBe(0);
    expect(none[0]).toBeCloseTo(Math.log(2), 15);
    expect(y('crossEntropy', { logits: lg, target: tg }, {}, 'loss')[0]).toBeCloseTo((none[0] + none[2]) / 2, 15);
    expect(run('crossEntropy', { logits: lg, target: tg }).loss.shape).toEqual([]);
    expect(errorOf(() => run('crossEntropy', { logits: lg, target: t([3], [0, 5, 1]) })).path).toBe('/inputs/target/data/1');
  });

  it('mseLoss: mean, sum, none', () => {
    const a = t([2, 2], [1, 2, 3, 4]);
    const b = t([2, 2], [1, 0, 3, 0]);
    expect(y('mseLoss', { input: a, target: b }, {}, 'loss')).toEqual([5]);
    expect(y('mseLoss', { input: a, target: b }, { reduction: 'sum' }, 'loss')).toEqual([20]);
    expect(y('mseLoss', { input: a, target: b }, { reduction: 'none' }, 'loss')).toEqual([0, 4, 0, 16]);
    expect(errorOf(() => run('mseLoss', { input: a, target: t([4], [1, 2, 3, 4]) })).path).toBe('/inputs/target/shape');
    expect(errorOf(() => run('mseLoss', { input: a, target: b }, { reduction: 'avg' })).path).toBe('/params/reduction');
  });
});
