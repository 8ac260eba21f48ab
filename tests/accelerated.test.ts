import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/grading/assignment.js';
import fc from 'fast-check';
import { allOps, compareArrays, describeMismatch, fromData, getOp, resolveParams, Rng, type Inputs } from '../src/index.js';
import { backendOps, FAST_BACKENDS, kernelOf, type FastBackend } from '../src/registry.js';
import { allowances } from '../src/judge/index.js';
import { backendInfo } from '../kernels/backend.js';
import { simdInfo } from '../kernels/simd/engine.js';
import { moduleWat } from '../kernels/simd/wat.js';

/**
 * Runs the exact reference and a fast backend and asserts every output is within the float32 error
 * bound of the exact one. An op the backend lacks is skipped (the shared corner lists below).
 */
async function agreeOn(backend: FastBackend, name: string, inputs: Inputs, params: Record<string, unknown>): Promise<void> {
  const op = getOp(name);
  const run = kernelOf(op, backend);
  if (!run) return;
  const p = resolveParams(op, params);
  const want = op.reference(inputs, p);
  const got = await run(inputs, p);
  const allowed = allowances(op, inputs, p, want, { kind: 'bound', precision: 'float32' });
  for (const k of Object.keys(want)) {
    expect(got[k], `${name}: output ${k}`).toBeDefined();
    const m = compareArrays(got[k], want[k], allowed[k]);
    expect(m.ok, `${name} ${JSON.stringify(params)}: ${describeMismatch(k, m)}`).toBe(true);
  }
}

const rand = (rng: Rng, shape: number[]) => fromData(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.float32(2)), shape);

it('the accelerated backend reports the gpu.js kernel class that actually ran', () => {
  const info = backendInfo();
  console.log(`accelerated backend: gpu.js ${info.gpuJs}, ${info.kernelClass} (headless-gl ${info.headlessGL}, WebAssembly ${info.webAssembly})`);
  expect(['WebAssemblyKernel', 'HeadlessGLKernel', 'CPUKernel', 'WebGLKernel', 'WebGL2Kernel']).toContain(info.kernelClass);
  // CI runs this file twice: CNN_ORACLE_EXPECT_GL=1 under xvfb-run (headless-gl), =0 without a display
  const expectGL = process.env.CNN_ORACLE_EXPECT_GL;
  if (expectGL === '1') expect(info.kernelClass, 'CNN_ORACLE_EXPECT_GL=1 but gpu.js did not run on headless-gl').toBe('HeadlessGLKernel');
  if (expectGL === '0') expect(info.kernelClass, 'CNN_ORACLE_EXPECT_GL=0 but gpu.js did not run on WebAssembly').toBe('WebAssemblyKernel');
});

const xvfb = ['/usr/bin/xvfb-run', '/bin/xvfb-run'].find((f) => existsSync(f));
if (!xvfb) console.warn('\n*** SKIPPED: xvfb-run is missing; the exit of a process that used headless-gl is not tested ***\n');
it.runIf(xvfb)('a process that ran gpu.js on headless-gl exits cleanly (no "Invalid GL context" from the exit-time clean-up)', () => {
  const r = spawnSync(xvfb!, ['-a', process.execPath, join(PACKAGE_ROOT, 'dist', 'src', 'cli.js'), 'backends'], { encoding: 'utf8', env: { ...process.env, CNN_ORACLE_GPU_MODE: 'gpu' }, timeout: 60000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const ran = /ran as (\w+)/.exec(r.stdout)?.[1];
  console.log(`under xvfb-run: gpu.js ran as ${ran}`);
  if (process.env.CNN_ORACLE_EXPECT_GL === '1') expect(ran).toBe('HeadlessGLKernel');
}, 60000);

it('the simd backend assembles its micro-kernel: 4 × 8 accumulators, SIMD loads, no scalar loads of B (relaxed or not)', async () => {
  const info = await simdInfo();
  console.log(`simd backend: ${info.engine}, ${info.threads} thread(s), relaxed SIMD ${info.relaxed}`);
  expect(info).toMatchObject({ microKernel: '4×8', precision: 'float32' });
  expect(info.threads).toBeGreaterThanOrEqual(1);
  expect(info.threads).toBeLessThanOrEqual(4);
  for (const relaxed of [false, true]) {
    const wat = moduleWat({ relaxed });
    const gemm = wat.slice(wat.indexOf('(func $gemm'), wat.indexOf('(func $gather'));
    expect(gemm.match(/f32x4\.mul/g) ?? []).toHaveLength(relaxed ? 0 : 8);
    expect(gemm.match(/f32x4\.relaxed_madd/g) ?? []).toHaveLength(relaxed ? 8 : 0);
    expect(gemm.match(/v128\.load32_splat/g)).toHaveLength(4);
    expect(gemm.match(/v128\.load offset/g)).toHaveLength(2);
    expect(gemm).not.toMatch(/f32\.load/);
  }
});

it('every export of the module is declared once, in SIGNATURES or UNARY, and its header is generated from it', async () => {
  const { SIGNATURES, UNARY } = await import('../kernels/simd/wat.js');
  const wat = moduleWat({ relaxed: false });
  const exported = [...wat.matchAll(/\(export "(\w+)"\)/g)].map((m) => m[1]);
  expect(exported.sort()).toEqual([...Object.keys(SIGNATURES), ...Object.keys(UNARY)].sort());
  // an elementwise op is a UNARY entry: its export takes (x, out, n), and the simd table has it under the op's name
  expect(wat).toContain('(func $hardswish (export "hardswish") (param $x i32) (param $out i32) (param $n i32)\n');
  expect(backendOps('simd')).toEqual(expect.arrayContaining(Object.keys(UNARY)));
  // e.g. gemm's nine i32 parameters, nms's two f64 thresholds and i32 result
  expect(wat).toContain('(func $gemm (export "gemm") (param $a i32) (param $lda i32) (param $koff i32) (param $bases i32) (param $c i32) (param $mb i32) (param $nb i32) (param $k i32) (param $ldc i32)\n');
  expect(wat).toMatch(/\(func \$nms \(export "nms"\)[^\n]*\(param \$thr f64\) \(param \$plus f64\)[^\n]*\(result i32\)\n/);
});

/** The README's `cnn-oracle backends` block: the ops line of each fast backend. */
const readmeOps = (backend: FastBackend): string[] => {
  const block = /\$ npx cnn-oracle backends\n[^$]*/.exec(readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8'))?.[0] ?? '';
  const line = new RegExp(`^${backend}[^]*?ops: (.*)$`, 'm').exec(block)?.[1] ?? '';
  return line.split(', ');
};

describe.each(FAST_BACKENDS)('the %s backend agrees with the exact reference within the float32 bound', (backend) => {
  const ops = allOps().filter((o) => kernelOf(o, backend));
  const agree = (name: string, inputs: Inputs, params: Record<string, unknown>) => agreeOn(backend, name, inputs, params);

  it('its ops are its own table’s, and the README lists exactly those', () => {
    expect(ops.map((o) => o.name)).toEqual(backendOps(backend));
    expect(ops.length).toBeGreaterThanOrEqual(9);
    expect(readmeOps(backend)).toEqual(backendOps(backend));
  });

  for (const op of ops) {
    it(`${op.name}: random cases (fast-check seeds)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 1e9 }), async (seed) => {
          const g = op.generate!(new Rng(seed));
          await agree(op.name, g.inputs, g.params);
        }),
        { seed: 123, numRuns: 12 },
      );
    }, 60000);
  }

  it('hardswish: the pieces’ ends, ±∞, NaN, large values', async () => {
    await agree('hardswish', { x: fromData([-Infinity, -1e30, -3, -2.875, -1e-30, 0, 2.999, 3, 1e30, Infinity, NaN], [11]) }, {});
  });

  it('long reductions run to the end (past gpu.js’s default loop cap of 1000 iterations)', async () => {
    const rng = new Rng('long-loops');
    await agree('conv2d', { x: rand(rng, [1, 1100, 3, 3]), weight: rand(rng, [2, 1100, 1, 1]) }, {});
    await agree('conv2d', { x: rand(rng, [1, 130, 5, 5]), weight: rand(rng, [2, 130, 3, 3]), bias: rand(rng, [2]) }, { padding: 1 }); // 1170 taps
    await agree('linear', { x: rand(rng, [2, 1500]), weight: rand(rng, [3, 1500]), bias: rand(rng, [3]) }, {});
    await agree('softmax', { x: rand(rng, [2, 1200]) }, { dim: 1 });
    await agree('batchNorm', { x: rand(rng, [3, 2, 40, 40]) }, { training: true });
    await agree('convTranspose2d', { x: rand(rng, [1, 1024, 2, 2]), weight: rand(rng, [1024, 1, 2, 2]) }, { stride: 2 });
  }, 60000);

  it('keeps the reference semantics at the corners: NaN, padding, ceil mode, indices, empty unions', async () => {
    await agree('maxPool2d', { x: fromData([1, NaN, 3, -2, -5, -6, -7, -8, 0], [1, 1, 3, 3]) }, { kernelSize: 2, stride: 1, padding: 1, returnIndices: true });
    await agree('maxPool2d', { x: fromData(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]) }, { kernelSize: 3, stride: 2, ceilMode: true, returnIndices: true });
    await agree('avgPool2d', { x: fromData(new Array(9).fill(1), [1, 1, 3, 3]) }, { kernelSize: 3, stride: 1, padding: 1, countIncludePad: false });
    await agree('avgPool2d', { x: fromData([1, 2, 3, 4], [1, 1, 2, 2]) }, { kernelSize: 3, stride: 3, padding: 1, ceilMode: true });
    await agree('softmax', { x: fromData([1000, 1001, 1002, -1000], [2, 2]) }, { dim: 0 });
    await agree('boxIou', { boxes1: fromData([1, 1, 1, 1, 0, 0, 2, 2], [2, 4]), boxes2: fromData([1, 1, 1, 1, 2, 2, 0, 0], [2, 4]) }, {});
    await agree('roiAlign', { x: fromData(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]), boxes: fromData([0, -2, -2, 2, 2, 0, 1.25, 0.5, 6, 3.75, 0, 1, 1, 1, 1], [3, 5]) }, { outputSize: 2, aligned: true });
    await agree('roiAlign', { x: fromData(Array.from({ length: 9 }, (_, i) => i), [1, 1, 3, 3]), boxes: fromData([0, 1, 1, 1.1, 1.1], [1, 5]) }, { outputSize: 2, samplingRatio: 2 });
    await agree('conv2d', { x: fromData(Array.from({ length: 9 }, (_, i) => i + 1), [1, 1, 3, 3]), weight: fromData([-1, -2, -1, 0, 0, 0, 1, 2, 1], [1, 1, 3, 3]) }, { padding: 1, flip: true });
  });

  it('same shapes and pads at the start but another output size: nothing compiled for one is reused for the other', async () => {
    const x = fromData(Array.from({ length: 9 }, (_, i) => i + 1), [1, 1, 3, 3]);
    const weight = fromData([1, 2, 3, 4], [1, 1, 2, 2]);
    await agree('conv2d', { x, weight }, {}); // 2×2 out
    await agree('conv2d', { x, weight }, { padding: 'same' }); // 3×3 out, the extra pad at the end
    await agree('convTranspose2d', { x, weight }, { stride: 2 });
    await agree('convTranspose2d', { x, weight }, { stride: 2, outputPadding: 1 });
  });

  it('validates like the reference (named errors, no garbage)', async () => {
    const op = getOp('conv2d');
    const p = resolveParams(op, { groups: 2 });
    await expect(Promise.resolve().then(() => kernelOf(op, backend)!({ x: fromData(new Array(12).fill(1), [1, 3, 2, 2]), weight: fromData([1, 1, 1], [1, 3, 1, 1]) }, p))).rejects.toMatchObject({ path: '/params/groups' });
    // the transposed conv shares the reference's checks: output padding, bias shape, groups
    const t = getOp('convTranspose2d');
    const x = fromData(new Array(8).fill(1), [1, 2, 2, 2]);
    const w = fromData(new Array(8).fill(1), [2, 1, 2, 2]);
    await expect(Promise.resolve().then(() => kernelOf(t, backend)!({ x, weight: w }, resolveParams(t, { stride: 2, outputPadding: 2 })))).rejects.toMatchObject({ path: '/params/outputPadding' });
    await expect(Promise.resolve().then(() => kernelOf(t, backend)!({ x, weight: w, bias: fromData([1, 2], [2]) }, resolveParams(t, {})))).rejects.toMatchObject({ path: '/inputs/bias/shape' });
    await expect(Promise.resolve().then(() => kernelOf(t, backend)!({ x, weight: w }, resolveParams(t, { groups: 3 })))).rejects.toMatchObject({ path: '/params/groups' });
  });
});

describe('the simd backend on the shapes its blocking must get right', () => {
  const agree = (name: string, inputs: Inputs, params: Record<string, unknown>) => agreeOn('simd', name, inputs, params);
  const rng = new Rng('simd-shapes');

  it('conv2d, stride 1 (implicit im2col): widths off the 8-column blocks, batches, groups, dilation, flip, asymmetric pads', async () => {
    for (const Wd of [1, 7, 8, 9, 17]) await agree('conv2d', { x: rand(rng, [2, 3, 5, Wd]), weight: rand(rng, [5, 3, 1, 1]), bias: rand(rng, [5]) }, {});
    await agree('conv2d', { x: rand(rng, [2, 6, 9, 11]), weight: rand(rng, [9, 2, 3, 3]), bias: rand(rng, [9]) }, { groups: 3, dilation: [2, 3], padding: [1, 2, 0, 3] });
    await agree('conv2d', { x: rand(rng, [1, 4, 6, 6]), weight: rand(rng, [3, 4, 2, 3]) }, { flip: true, padding: 'same' });
  });

  it('depthwise conv2d (its direct kernel): widths off the 8-column blocks, stride 2 down the rows, dilation, flip, pads, a batch', async () => {
    for (const Wd of [1, 3, 7, 8, 9, 16, 17]) await agree('conv2d', { x: rand(rng, [1, 4, Wd, Wd]), weight: rand(rng, [4, 1, 3, 3]), bias: rand(rng, [4]) }, { groups: 4, padding: 1 });
    await agree('conv2d', { x: rand(rng, [2, 5, 12, 10]), weight: rand(rng, [5, 1, 3, 2]) }, { groups: 5, stride: [2, 1], dilation: [2, 3], padding: [2, 1, 0, 3] });
    await agree('conv2d', { x: rand(rng, [1, 3, 6, 7]), weight: rand(rng, [3, 1, 3, 3]) }, { groups: 3, flip: true, padding: 'same' });
    await agree('conv2d', { x: rand(rng, [1, 32, 40, 40]), weight: rand(rng, [32, 1, 5, 5]), bias: rand(rng, [32]) }, { groups: 32, padding: 2 }); // split over the threads
    // the flip, checked on values: a true convolution of a delta reproduces its kernel, unflipped
    const delta = fromData([0, 0, 0, 0, 1, 0, 0, 0, 0], [1, 1, 3, 3]);
    const k = fromData([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const y = (await kernelOf('conv2d', 'simd')!({ x: delta, weight: k }, resolveParams(getOp('conv2d'), { padding: 1, flip: true }))).y;
    expect(Array.from(y.data as Float64Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const c = (await kernelOf('conv2d', 'simd')!({ x: delta, weight: k }, resolveParams(getOp('conv2d'), { padding: 1 }))).y;
    expect(Array.from(c.data as Float64Array)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('conv2d, other strides (packed im2col): panels inside and across the border, rows and images spanning a panel', async () => {
    await agree('conv2d', { x: rand(rng, [2, 3, 13, 13]), weight: rand(rng, [7, 3, 5, 5]), bias: rand(rng, [7]) }, { stride: 2 });
    await agree('conv2d', { x: rand(rng, [3, 4, 7, 5]), weight: rand(rng, [6, 2, 3, 3]) }, { stride: [2, 3], padding: 2, groups: 2, dilation: [1, 2] });
    await agree('conv2d', { x: rand(rng, [1, 1, 9, 9]), weight: rand(rng, [1, 1, 3, 3]) }, { stride: [1, 2], flip: true });
  });

  it('conv2d keeps the reference’s padding rule with non-finite weights (padding taps are skipped, not multiplied)', async () => {
    const x = fromData([1, 2, 3, 4], [1, 1, 2, 2]);
    const w = fromData([Infinity, 0, 0, 1], [1, 1, 2, 2]);
    await agree('conv2d', { x, weight: w }, { padding: 1 });
    const y = (await kernelOf('conv2d', 'simd')!({ x, weight: w }, resolveParams(getOp('conv2d'), { padding: 1 }))).y;
    expect(Array.from(y.data as Float64Array).filter(Number.isNaN)).toEqual([]);
    // without padding a GEMM is exact to the reference's rule: ∞ and NaN inputs propagate
    await agree('conv2d', { x: fromData([Infinity, 2, NaN, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]), weight: fromData([1, 1, 1, 1], [1, 1, 2, 2]) }, {});
  });

  it('multiplies large enough to be split across the worker threads agree too (conv, strided conv, linear, transposed conv)', async () => {
    await agree('conv2d', { x: rand(rng, [2, 16, 32, 30]), weight: rand(rng, [20, 16, 3, 3]), bias: rand(rng, [20]) }, { padding: 1 });
    await agree('conv2d', { x: rand(rng, [1, 8, 64, 64]), weight: rand(rng, [12, 8, 5, 5]) }, { stride: 2, padding: 2 });
    await agree('linear', { x: rand(rng, [100, 300]), weight: rand(rng, [70, 300]) }, {});
    await agree('convTranspose2d', { x: rand(rng, [1, 64, 20, 20]), weight: rand(rng, [64, 8, 4, 4]) }, { stride: 2, padding: 1 });
  });

  it('loops large enough to be split across the threads agree too (pooling planes, softmax rows, IoU rows, batch-norm images)', async () => {
    const x = rand(rng, [2, 8, 64, 64]);
    await agree('maxPool2d', { x }, { kernelSize: 3, stride: 1, padding: 1, returnIndices: true });
    await agree('avgPool2d', { x }, { kernelSize: 3, stride: 1, padding: 1, countIncludePad: false });
    await agree('softmax', { x: rand(rng, [300, 500]) }, { dim: 1 });
    const boxes = (n: number) => fromData(Array.from({ length: n }, () => { const [a, b] = [rng.next() * 90, rng.next() * 90]; return [a, b, a + 1 + rng.next() * 20, b + 1 + rng.next() * 20]; }).flat(), [n, 4]);
    await agree('boxIou', { boxes1: boxes(500), boxes2: boxes(301) }, {});
    await agree('batchNorm', { x: rand(rng, [8, 16, 32, 32]) }, { training: true });
  });

  it('nonfinite finds ±∞ and NaN anywhere, the tail included, and nothing in finite data', async () => {
    const { Arena, getEngine } = await import('../kernels/simd/engine.js');
    const ar = new Arena(await getEngine());
    const at = ar.alloc(23);
    ar.commit();
    for (const [i, v] of [[-1, 0], [0, Infinity], [13, -Infinity], [20, NaN], [22, NaN]] as const) {
      ar.putF32(at, Array.from({ length: 23 }, (_, k) => (k === i ? v : 3.4e38 - k)));
      expect(ar.fns.nonfinite(at, 23), `element ${i} = ${v}`).toBe(i < 0 ? 0 : 1);
    }
    expect(ar.fns.nonfinite(at, 20)).toBe(0); // the NaNs past n are not looked at
  });

  it('cuts loops into per-thread ranges only when each thread gets enough work', async () => {
    const { ranges } = await import('../kernels/simd/engine.js');
    expect(ranges(3, 10, 1)).toEqual([[0, 4], [4, 4], [8, 2]]);
    expect(ranges(2, 10, 5)).toEqual([[0, 5], [5, 5]]);
    expect(ranges(2, 10, 6)).toEqual([[0, 10]]);
    expect(ranges(4, 0, 1)).toEqual([[0, 0]]);
  });

  it('pooling: dilation, asymmetric pads, ceil mode, divisors, all −∞ windows (the index is the first valid cell), NaN', async () => {
    for (const params of [
      { kernelSize: 3, stride: 2, padding: 1, dilation: 2, returnIndices: true },
      { kernelSize: [3, 2], stride: [2, 1], padding: [1, 0, 0, 1], ceilMode: true, returnIndices: true },
    ]) await agree('maxPool2d', { x: rand(rng, [2, 3, 9, 8]) }, params);
    await agree('maxPool2d', { x: fromData([-Infinity, -Infinity, -Infinity, NaN, 1, NaN, 2, 3, 4], [1, 1, 3, 3]) }, { kernelSize: 2, stride: 1, padding: 1, returnIndices: true });
    for (const params of [
      { kernelSize: 3, stride: 2, padding: 1, ceilMode: true },
      { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false },
      { kernelSize: [2, 3], stride: [1, 2], padding: [0, 1, 1, 0], divisorOverride: 5 },
    ]) await agree('avgPool2d', { x: rand(rng, [2, 3, 8, 9]) }, params);
  });

  it('softmax: any dim (strided rows), a NaN row, an all −∞ row, ±1000', async () => {
    await agree('softmax', { x: rand(rng, [3, 4, 5]) }, { dim: 0 });
    await agree('softmax', { x: rand(rng, [3, 4, 5]) }, { dim: -2 });
    await agree('softmax', { x: fromData([1, NaN, 3, -Infinity, -Infinity, -Infinity, 1000, -1000, 999], [3, 3]) }, { dim: 1 });
  });

  it('nms and batchedNms keep exactly the reference’s boxes: ties, IoU at the threshold, NaN and degenerate boxes, 600 random boxes', async () => {
    const boxes = fromData([0, 0, 10, 10, 0, 0, 10, 10, 5, 0, 15, 10, 1, 1, 1, 1, NaN, 0, 1, 1, 20, 20, 30, 30], [6, 4]);
    const scores = fromData([0.9, 0.9, 0.8, 0.7, 0.95, 0.9], [6]);
    for (const params of [{ iouThreshold: 0.5 }, { iouThreshold: 1 / 3 }, { iouThreshold: 0, maxOutput: 2 }, { iouThreshold: 0.3, scoreThreshold: 0.85, pixelInclusive: true }]) {
      await agree('nms', { boxes, scores }, params);
      await agree('batchedNms', { boxes, scores, classes: fromData([0, 1, 0, 1, 0, 0], [6]) }, params);
    }
    const n = 600;
    const b = Array.from({ length: n }, () => {
      const [x, y] = [rng.next() * 300, rng.next() * 300];
      return [x, y, x + 10 + rng.next() * 60, y + 10 + rng.next() * 60];
    }).flat();
    const s = Array.from({ length: n }, () => Math.round(rng.next() * 50) / 50); // many equal scores
    for (const iouThreshold of [0.3, 0.5, 0.7]) await agree('nms', { boxes: fromData(b, [n, 4]), scores: fromData(s, [n]) }, { iouThreshold });
    await agree('boxIou', { boxes1: fromData(b.slice(0, 400), [100, 4]), boxes2: fromData(b, [n, 4]) }, { boxFormat: 'xywh' });
  });

  it('roiAlign: adaptive and fixed sampling, aligned or not, RoIs over the border and on the second image, NaN in x', async () => {
    const x = rand(rng, [2, 3, 9, 11]);
    const boxes = fromData([0, 1, 1, 6, 5, 1, -3, 2, 14, 12, 1, 8, 7, 8.5, 7.5, 0, 2.25, 3.75, 2.25, 3.75], [4, 5]);
    for (const params of [{ outputSize: 2 }, { outputSize: [3, 2], samplingRatio: 2, aligned: true, spatialScale: 0.5 }, { outputSize: 4, samplingRatio: 0, aligned: false }]) {
      await agree('roiAlign', { x, boxes }, params);
    }
    const withNaN = fromData(Array.from({ length: 2 * 3 * 9 * 11 }, (_, i) => (i === 40 ? NaN : (i % 7) - 3)), [2, 3, 9, 11]);
    await agree('roiAlign', { x: withNaN, boxes }, { outputSize: 3, samplingRatio: 2 });
  });

  it('batchNorm: training (statistics, running update) and inference, without and with affine params', async () => {
    await agree('batchNorm', { x: rand(rng, [4, 3, 5, 6]) }, { training: true });
    await agree('batchNorm', { x: rand(rng, [4, 3, 7]), weight: rand(rng, [3]), bias: rand(rng, [3]), runningMean: rand(rng, [3]), runningVar: fromData([0.5, 1, 2], [3]) }, { training: true, momentum: 0.2, runningVarEstimator: 'unbiased' });
    await agree('batchNorm', { x: rand(rng, [2, 3, 4, 4]), weight: rand(rng, [3]), bias: rand(rng, [3]), runningMean: rand(rng, [3]), runningVar: fromData([0.5, 1, 2], [3]) }, { training: false, eps: 1e-3 });
  });

  it('linear and convTranspose2d: rows off the blocks, leading batch dims, groups, output padding', async () => {
    await agree('linear', { x: rand(rng, [2, 3, 13]), weight: rand(rng, [5, 13]), bias: rand(rng, [5]) }, {});
    await agree('linear', { x: rand(rng, [9, 1]), weight: rand(rng, [1, 1]) }, {});
    await agree('convTranspose2d', { x: rand(rng, [2, 4, 3, 5]), weight: rand(rng, [4, 3, 3, 2]), bias: rand(rng, [6]) }, { stride: [2, 3], padding: 1, outputPadding: [1, 2], groups: 2, dilation: [1, 2] });
  });
});

it('the simd module’s exp is within 1e-13 of Math.exp (relative; subnormals within 2 ulps), and exact at 0', async () => {
  const { getEngine } = await import('../kernels/simd/engine.js');
  const { exp } = await getEngine();
  const rng = new Rng('exp');
  let worst = 0;
  for (let t = 0; t < 20000; t++) {
    const x = -745 + rng.next() * (709.7 + 745);
    const want = Math.exp(x);
    const err = Math.abs(exp(x) - want) - 2 * 2 ** -1074;
    worst = Math.max(worst, err / want);
  }
  expect(worst).toBeLessThan(1e-13);
  expect(exp(0)).toBe(1);
  expect(exp(-Infinity)).toBe(0);
  expect(exp(-1000)).toBe(0);
  expect(exp(Infinity)).toBe(Infinity);
  expect(exp(NaN)).toBeNaN();
  expect(exp(709.78) / Math.exp(709.78)).toBeCloseTo(1, 12);
});
