/**
 * Forward ops' shape functions (OpDef.outputShapes): what a backward op checks dy against without
 * running the forward reference (issue #16).
 */
import { describe, expect, it } from 'vitest';
import { allOps, getOp, resolveParams, Rng, type OpDef, type Params } from '../src/index.js';
import { errorOf, run, t } from './helpers/run.js';

const backwardOps = allOps().filter((o) => o.backward);
const forwardOf = (b: OpDef) => getOp(b.backward!.forward);
const withShapes = allOps().filter((o) => o.outputShapes);
/** The params a forward op's backward runs it with (batchNorm: training). */
const backwardParams = (fwd: OpDef, p: Params): Params[] => {
  const alt = backwardOps.filter((b) => b.backward!.forward === fwd.name && b.backward!.forwardParams).map((b) => b.backward!.forwardParams!(p));
  return [p, ...alt];
};

describe('forward output shapes without the forward', () => {
  it('every forward op with a backward op declares outputShapes', () => {
    const missing = backwardOps.map(forwardOf).filter((f) => !f.outputShapes).map((f) => f.name);
    expect(missing).toEqual([]);
    expect(backwardOps.length).toBe(21);
  });

  for (const op of withShapes) {
    it(`${op.name}: the declared shapes are the reference's on its generated cases`, () => {
      let compared = 0;
      for (let seed = 0; seed < 60; seed++) {
        const g = op.generate!(new Rng(`output-shapes ${seed}`));
        for (const params of backwardParams(op, resolveParams(op, g.params))) {
          const out = op.reference(g.inputs, params);
          const shapes = Object.fromEntries(Object.entries(out).map(([k, a]) => [k, a.shape.slice()]));
          expect(op.outputShapes!(g.inputs, params), `${op.name} ${JSON.stringify(g.params)}`).toEqual(shapes);
          compared++;
        }
      }
      expect(compared).toBeGreaterThanOrEqual(60);
    });
  }

  it('the shapes are not all alike (the comparison can tell a wrong function)', () => {
    const conv = getOp('conv2d');
    const p = resolveParams(conv, { stride: 2, padding: 1 });
    const inputs = { x: run('relu', { x: t([1, 1, 5, 4], new Array(20).fill(1)) }).y, weight: run('relu', { x: t([3, 1, 3, 3], new Array(27).fill(1)) }).y };
    // hand-worked: ⌊(5 + 2 − 3)/2⌋ + 1 = 3, ⌊(4 + 2 − 3)/2⌋ + 1 = 2
    expect(conv.outputShapes!(inputs, p)).toEqual({ y: [1, 3, 3, 2] });
  });

  it('backward ops are validated and run without calling the forward reference', () => {
    for (const b of backwardOps) {
      const fwd = forwardOf(b);
      const saved = fwd.reference;
      fwd.reference = () => {
        throw new Error(`${fwd.name}'s reference ran`);
      };
      try {
        for (let seed = 0; seed < 5; seed++) {
          const g = b.generate!(new Rng(`no forward ${seed}`));
          const params = resolveParams(b, g.params);
          b.validate!(g.inputs, params);
          b.reference(g.inputs, params);
          if (b.inputs.find((s) => s.name === 'dy')?.optional) {
            const { dy: _dy, ...rest } = g.inputs;
            b.reference(rest, params);
          }
        }
      } finally {
        fwd.reference = saved;
      }
    }
  });
});

describe('backward validation keeps the forward rules and messages', () => {
  it('a dy of the wrong shape is named, with the shape from the shape function', () => {
    const e = errorOf(() => run('conv2dBackward', { x: t([1, 1, 3, 3], new Array(9).fill(1)), weight: t([1, 1, 2, 2], [1, 1, 1, 1]), dy: t([1, 1, 3, 3], new Array(9).fill(1)) }));
    expect(e.path).toBe('/inputs/dy/shape');
    expect(e.message).toBe("dy must have the shape of the forward output [1, 1, 2, 2] (conv2d's y); got [1, 1, 3, 3]");
    const l = errorOf(() => run('crossEntropyBackward', { logits: t([2, 3], [1, 2, 3, 4, 5, 6]), target: { shape: [2], data: [0, 2] }, dy: t([2], [1, 1]) }));
    expect(l.message).toBe("dy must have the shape of the forward output [] (crossEntropy's loss); got [2]");
  });

  it('the rules the forward reference used to check come from the forward validation', () => {
    expect(errorOf(() => run('layerNormBackward', { x: t([2, 3], [1, 2, 3, 4, 5, 6]), weight: t([2], [1, 1]), dy: t([2, 3], [1, 1, 1, 1, 1, 1]) }, { normalizedShape: [3] }))).toMatchObject({
      path: '/inputs/weight/shape',
      message: 'weight must have shape [3], got [2]',
    });
    expect(errorOf(() => run('groupNormBackward', { x: t([1, 3, 2], [1, 2, 3, 4, 5, 6]), dy: t([1, 3, 2], [1, 1, 1, 1, 1, 1]) }, { numGroups: 2 })).path).toBe('/params/numGroups');
    expect(errorOf(() => run('crossEntropyBackward', { logits: t([2, 3], [1, 2, 3, 4, 5, 6]), target: t([2], [0, 1.5]) })).message).toBe('class indices must be integers (dtype int64), got 1.5');
    expect(errorOf(() => run('batchNormBackward', { x: t([1, 2], [1, 2]), dy: t([1, 2], [1, 1]) })).message).toContain('more than 1 value per channel');
    expect(errorOf(() => run('upsample2dBackward', { x: t([1, 1, 1, 1], [1]), dy: t([1, 1, 2, 2], [1, 1, 1, 1]) }, { mode: 'nearest', size: [2, 2], alignCorners: true })).path).toBe('/params/alignCorners');
    expect(errorOf(() => run('maxUnpool2dBackward', { x: t([1, 1, 1, 1], [1]), indices: { shape: [1, 1, 1, 1], data: [4] }, dy: t([1, 1, 2, 2], [1, 1, 1, 1]) }, { kernelSize: 2 }))).toMatchObject({
      path: '/inputs/indices/data/0',
      message: 'index 4 is outside the 2×2 output plane (0..3)',
    });
  });
});
