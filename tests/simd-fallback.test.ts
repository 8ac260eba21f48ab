import { expect, it } from 'vitest';
import { compareArrays, describeMismatch, fromData, getOp, resolveParams, Rng, type Inputs } from '../src/index.js';
import { kernelOf } from '../src/registry.js';
import { allowances } from '../src/judge/bounds.js';
import { Arena, getEngine, simdInfo } from '../kernels/simd/engine.js';
import { setEnvForFile } from './helpers/env.js';

/**
 * The simd backend without relaxed SIMD (multiply then add, two roundings a step), the path of a
 * Node without --experimental-wasm-relaxed-simd: the same ops against the exact reference under the
 * float32 bound. (accelerated.test.ts runs the default, relaxed where it works; this file turns it
 * off while it runs.)
 */
// getEngine reads the variable at each call: the files after this one in the same worker get the default engine back
setEnvForFile('CNN_ORACLE_SIMD_RELAXED', '0');

const rng = new Rng('simd-no-relaxed');
const rand = (shape: number[]) => fromData(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.float32(2)), shape);

async function agree(name: string, inputs: Inputs, params: Record<string, unknown>): Promise<void> {
  const op = getOp(name);
  const p = resolveParams(op, params);
  const want = op.reference(inputs, p);
  const got = await kernelOf(op, 'simd')!(inputs, p);
  const allowed = allowances(op, inputs, p, want, { kind: 'bound', precision: 'float32' });
  for (const k of Object.keys(want)) {
    const m = compareArrays(got[k], want[k], allowed[k]);
    expect(m.ok, `${name} ${JSON.stringify(params)}: ${describeMismatch(k, m)}`).toBe(true);
  }
}

it('with relaxed SIMD off, the multiplies are mul + add and still within the float32 bound', async () => {
  expect((await simdInfo()).relaxed).toBe(false);
  await agree('conv2d', { x: rand([2, 16, 13, 11]), weight: rand([10, 16, 3, 3]), bias: rand([10]) }, { padding: 1 });
  await agree('conv2d', { x: rand([1, 6, 15, 15]), weight: rand([8, 3, 5, 5]) }, { stride: 2, groups: 2, padding: 2 });
  await agree('conv2d', { x: rand([1, 8, 9, 19]), weight: rand([8, 1, 3, 3]), bias: rand([8]) }, { groups: 8, padding: 1 });
  await agree('linear', { x: rand([33, 700]), weight: rand([21, 700]), bias: rand([21]) }, {});
  await agree('convTranspose2d', { x: rand([1, 12, 7, 7]), weight: rand([12, 5, 4, 4]) }, { stride: 2, padding: 1 });
});

it('fused and unfused multiply-adds really differ (so each path above is a separate check)', async () => {
  const relaxed = await getEngine({ relaxed: true });
  if (!relaxed.relaxed) return console.warn('*** relaxed SIMD is not available here: only the unfused path was tested ***');
  const plain = await getEngine({ relaxed: false });
  expect(plain.relaxed).toBe(false);
  // two steps: acc = 1·(−f32(a²)), then acc + a·a: fused, a² − f32(a²) (its rounding error), unfused 0
  const a = 1 + 2 ** -12;
  const run = (e: typeof plain) => {
    const ar = new Arena(e);
    const aOff = ar.alloc(4 * 2);
    const koff = ar.alloc(2);
    const bases = ar.alloc(1);
    const bOff = ar.alloc(16);
    const cOff = ar.alloc(32);
    ar.commit();
    // A rows [1, a], [0, 0]…; B rows k=0: −f32(a²), k=1: a
    ar.putF32(aOff, [1, a, 0, 0, 0, 0, 0, 0]);
    ar.putF32(bOff, [...new Array(8).fill(-Math.fround(a * a)), ...new Array(8).fill(a)]);
    ar.i32.set([0, 32], koff / 4);
    ar.i32[bases / 4] = bOff;
    e.gemm(aOff, 8, koff, bases, cOff, 1, 1, 2, 8);
    return ar.f32[cOff / 4];
  };
  expect(run(plain)).toBe(0);
  expect(run(relaxed)).toBe(a * a - Math.fround(a * a)); // 2^-24, exact in float32
});
