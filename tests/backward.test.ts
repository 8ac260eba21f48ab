import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allOps, getOp, gradCheck, resolveParams, Rng } from '../src/index.js';
import { run, t, y } from './helpers/run.js';

const backwardOps = allOps().filter((o) => o.backward);

describe('backward ops agree with central differences of the forward reference', () => {
  it('covers every backward op of ops.md', () => {
    expect(backwardOps.map((o) => o.name).sort()).toEqual(
      [
        'conv1dBackward', 'conv2dBackward', 'convTranspose2dBackward', 'linearBackward', 'maxPool2dBackward', 'avgPool2dBackward',
        'adaptiveAvgPool2dBackward', 'batchNormBackward', 'layerNormBackward', 'groupNormBackward', 'reluBackward', 'leakyReluBackward',
        'sigmoidBackward', 'tanhBackward', 'hardswishBackward', 'softmaxBackward', 'crossEntropyBackward', 'roiAlignBackward', 'roiPoolBackward',
        'upsample2dBackward', 'maxUnpool2dBackward',
      ].sort(),
    );
  });

  for (const op of backwardOps) {
    it(`${op.name} (fast-check seeds)`, () => {
      let checked = 0;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 1e9 }), (seed) => {
          const g = op.generate!(new Rng(seed));
          const params = resolveParams(op, g.params);
          for (const e of gradCheck(op, g.inputs, params)) {
            checked += e.checked;
            if (e.maxRelError > 1e-5) {
              throw new Error(`${op.name} ${e.output}: relative error ${e.maxRelError} at ${e.index} (analytic ${e.analytic}, numeric ${e.numeric}); params ${JSON.stringify(g.params)}`);
            }
          }
        }),
        { seed: 91, numRuns: 25 },
      );
      expect(checked).toBeGreaterThan(20); // kinks aside, real elements were compared
    });
  }
});

describe('backward by hand and adjoint identities', () => {
  it('linear: dx = dy·W, dW = dyᵀ·x, db = Σ dy', () => {
    const r = run('linearBackward', { x: t([2, 2], [1, 2, 3, 4]), weight: t([1, 2], [5, 6]), dy: t([2, 1], [1, -1]) });
    expect(Array.from(r.dx.data)).toEqual([5, 6, -5, -6]);
    expect(Array.from(r.dweight.data)).toEqual([-2, -2]);
    expect(Array.from(r.dbias.data)).toEqual([0]);
  });

  it('relu and leakyRelu at 0 follow PyTorch (0 and the slope)', () => {
    expect(y('reluBackward', { x: t([3], [-1, 0, 2]), dy: t([3], [1, 1, 1]) }, {}, 'dx')).toEqual([0, 0, 1]);
    expect(y('leakyReluBackward', { x: t([3], [-1, 0, 2]), dy: t([3], [1, 1, 1]) }, { negativeSlope: 0.1 }, 'dx')).toEqual([0.1, 0.1, 1]);
  });

  it('maxPool2d sends the gradient to the first maximum only', () => {
    expect(y('maxPool2dBackward', { x: t([1, 1, 2, 2], [7, 7, 1, 7]), dy: t([1, 1, 1, 1], [3]) }, { kernelSize: 2 }, 'dx')).toEqual([3, 0, 0, 0]);
  });

  it('crossEntropy: p − onehot, over N for mean', () => {
    const p = [Math.exp(1), Math.exp(2), Math.exp(3)].map((v, _, a) => v / (Math.exp(1) + Math.exp(2) + Math.exp(3)));
    const got = y('crossEntropyBackward', { logits: t([1, 3], [1, 2, 3]), target: t([1], [2]), dy: t([], [1]) }, {}, 'dlogits');
    [p[0], p[1], p[2] - 1].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 15));
  });

  it('crossEntropy: dy may be left out and is 1, the seed of loss.backward()', () => {
    // logits [0, 0], target 0, mean over 2 samples: (softmax − onehot)/2 = [−1/4, 1/4] per row
    const logits = t([2, 2], [0, 0, 0, 0]);
    const target = t([2], [0, 1]);
    expect(y('crossEntropyBackward', { logits, target }, {}, 'dlogits')).toEqual([-0.25, 0.25, 0.25, -0.25]);
    expect(y('crossEntropyBackward', { logits, target }, { reduction: 'none' }, 'dlogits')).toEqual([-0.5, 0.5, 0.5, -0.5]);
    expect(y('crossEntropyBackward', { logits, target, dy: t([], [2]) }, {}, 'dlogits')).toEqual([-0.5, 0.5, 0.5, -0.5]);
  });

  it('the backward of conv2d w.r.t. x is the transposed conv of dy (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), (seed) => {
        const g = getOp('conv2d').generate!(new Rng(seed));
        if (g.params.padding === 'same') return;
        const p = resolveParams(getOp('conv2d'), g.params);
        const yy = run('conv2d', g.inputs as never, p).y;
        const rng = new Rng(seed + 1);
        const dy = t(yy.shape, Array.from(yy.data, () => rng.dyadic(2)));
        const dx = run('conv2dBackward', { ...(g.inputs as object), dy } as never, p).dx;
        const pads = p.padding as number[];
        const [H, W] = g.inputs.x.shape.slice(2);
        const [kh, kw] = g.inputs.weight.shape.slice(2);
        const s = p.stride as number[];
        const d = p.dilation as number[];
        const op = [0, 1].map((a) => [H, W][a] + pads[2 * a] + pads[2 * a + 1] - (d[a] * ([kh, kw][a] - 1) + 1) - (yy.shape[2 + a] - 1) * s[a]);
        if (p.flip) return;
        const back = run('convTranspose2d', { x: dy, weight: g.inputs.weight }, { stride: s, padding: pads, dilation: d, groups: p.groups, outputPadding: op }).y;
        expect(Array.from(back.data)).toEqual(Array.from(dx.data));
      }),
      { seed: 92, numRuns: 100 },
    );
  });

  it('the backward of convTranspose2d w.r.t. x is the conv2d of dy', () => {
    const x = t([1, 2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const w = t([2, 1, 2, 2], [1, -1, 2, 0.5, 3, 1, -2, 1]);
    const params = { stride: 2, padding: 1, outputPadding: 1 };
    const yy = run('convTranspose2d', { x, weight: w }, params).y;
    const dy = t(yy.shape, Array.from(yy.data, (_, i) => (i % 5) - 2));
    const dx = y('convTranspose2dBackward', { x, weight: w, dy }, params, 'dx');
    // conv2d weight [O = 2, C/g = 1, …] from the transposed weight [C = 2, O/g = 1, …]: the same array
    expect(y('conv2d', { x: dy, weight: w }, { stride: 2, padding: 1 })).toEqual(dx);
  });

  it('backward ops reject the params their forward op rejects', () => {
    const x = t([1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const w = t([2, 1, 2, 2], [1, 1, 1, 1, 1, 1, 1, 1]);
    expect(() => run('convTranspose2dBackward', { x, weight: w, dy: t([1, 1, 5, 5], new Array(25).fill(1)) }, { stride: 2, outputPadding: 2 })).toThrow(/outputPadding 2 along the height must be smaller/);
    expect(() => run('conv2dBackward', { x: t([1, 1, 2, 2], [1, 2, 3, 4]), weight: t([1, 1, 3, 3], new Array(9).fill(1)), dy: t([1, 1, 1, 1], [1]) })).toThrow(/larger than the padded input/);
  });

  it('rejects a dy of the wrong shape, naming it', () => {
    expect(() => run('reluBackward', { x: t([2], [1, 2]), dy: t([3], [1, 2, 3]) })).toThrow(/dy must have the shape of the forward output \[2\]/);
  });
});

describe('the gradient checker catches wrong gradients', () => {
  const wrong = (name: string, patch: (out: Record<string, any>, i: any) => void) => {
    const op = getOp(name);
    return { ...op, reference: (i: any, p: any) => { const out = op.reference(i, p); patch(out, i); return out; } };
  };
  it.each([
    ['sigmoidBackward', 'dx', (o: any) => o.dx.data.forEach((v: number, k: number) => (o.dx.data[k] = v * 1.5))],
    ['conv2dBackward', 'dweight', (o: any) => (o.dweight.data[0] += 0.25)],
    ['batchNormBackward', 'dx', (o: any) => o.dx.data.forEach((v: number, k: number) => (o.dx.data[k] = v * (7 / 8)))],
  ])('%s with a broken %s is reported', (name, output, patch) => {
    const op = wrong(name, patch);
    const g = getOp(name).generate!(new Rng(3));
    const entry = gradCheck(op as never, g.inputs, resolveParams(getOp(name), g.params)).find((e) => e.output === output)!;
    expect(entry.maxRelError).toBeGreaterThan(1e-3);
  });
});
