import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { getOp } from '../src/index.js';
import { backendOps } from '../src/registry.js';
import { loadTarget } from '../src/conformance/targets.js';
import { regionOf, reportText, runConformance } from '../src/conformance/run.js';
import { cli as runCli } from './helpers/cli.js';

const ROOT = join(__dirname, '..');

describe('conformance runs find the known disagreements on their own, and stay finding them', () => {
  it('tfjs-cpu: numeric padding with a non-square window, and NMS suppressing at IoU ≥ threshold', async () => {
    const r = await runConformance(await loadTarget('tfjs-cpu'), { random: 4, seed: 'ci' });
    const ids = r.failures.map((f) => f.id);
    expect(ids).toContain('probe/conv2d-non-square-kernel-int-padding');
    expect(r.failures.find((f) => f.id === 'probe/conv2d-non-square-kernel-int-padding')!.message).toContain('shape [1, 1, 7, 7] differs from the expected [1, 1, 7, 5]');
    expect(ids).toContain('nms/iou-equals-threshold');
    expect(r.failures.find((f) => f.id === 'nms/iou-equals-threshold')!.reproducer).toMatchObject({ op: 'nms', params: { iouThreshold: 0.5 }, expected: { keep: { data: [0, 1, 2] } } });
    // passes where the library agrees, and says what it cannot express
    const relu = r.rows.find((w) => w.op === 'relu')!;
    expect([relu.passed, relu.failed]).toEqual([relu.passed, 0]);
    expect(relu.passed).toBeGreaterThan(5);
    expect(r.rows.some((w) => w.op === 'maxPool2d' && w.reasons.includes('ceilMode'))).toBe(true);
    expect(r.rows.some((w) => w.op === 'conv2d' && w.failed === 0 && w.passed > 0)).toBe(true);
    expect(reportText(r)).toContain('failures (each with a reproducing case):');
  }, 60000);

  it('onnxruntime: conv, pools (ceil mode, indices), RoI ops and NMS agree; Sigmoid is approximate; ConvTranspose refuses PyTorch-valid output padding', async () => {
    const r = await runConformance(await loadTarget('onnxruntime'), { random: 8, seed: '0' });
    const failedOps = new Set(r.failures.filter((f) => !f.id.startsWith('probe/maxPool2d-nan-in-window')).map((f) => f.op)); // NaN windows: see the seeded probes below
    for (const op of ['conv2d', 'maxPool2d', 'avgPool2d', 'roiAlign', 'roiPool', 'nms', 'softmax', 'relu']) {
      expect(failedOps.has(op), op).toBe(false);
      expect(r.rows.filter((w) => w.op === op).reduce((s, w) => s + w.passed, 0), op).toBeGreaterThan(3);
    }
    const sig = r.failures.filter((f) => f.op === 'sigmoid');
    expect(sig.length).toBeGreaterThan(0);
    expect(Math.max(...sig.map((f) => f.worstUlp!))).toBeGreaterThan(8);
    const ct = r.failures.find((f) => f.op === 'convTranspose2d');
    expect(ct?.message).toContain('output_padding (1) may be too large for stride (1)');
    expect((ct?.reproducer as { params: { dilation: number[] } }).params.dilation).toEqual([2, 2]);
  }, 60000);

  it('onnxruntime: HardSwish computes ONNX’s x·(x/6 + 1/2) in float32, 4× the allowance at x = −2.875 (cancellation near −3)', async () => {
    const r = await runConformance(await loadTarget('onnxruntime'), { ops: ['hardswish'], random: 20, seed: '0' });
    const f = r.failures.find((x) => (x.reproducer as { inputs: { x: { data: number[] } } }).inputs.x.data.includes(-2.875));
    expect(f, 'the seeded run finds x = −2.875').toBeDefined();
    expect(f!.severity).toBeGreaterThan(3);
    expect(f!.severity).toBeLessThan(5);
    // what it gives is ONNX's definition x·max(0, min(1, αx + β)), α = float32(1/6), β = 1/2, in float32
    // steps (an independent model), where PyTorch's x·relu6(x + 3)/6 is within 1 ULP of the exact −23/384
    const fr = Math.fround;
    const onnxFormula = fr(-2.875 * fr(fr(fr(1 / 6) * -2.875) + 0.5));
    const t = await loadTarget('onnxruntime');
    await t.init?.();
    const got = await t.ops.hardswish.run({ x: (await import('../src/index.js')).fromData([-2.875], [1]) }, {});
    expect(got.y.data[0]).toBe(onnxFormula);
    expect(onnxFormula).not.toBe(fr(-23 / 384));
    await t.dispose?.();
    // every other sampled value is within the bound
    expect(r.failures.every((x) => (x.reproducer as { inputs: { x: { data: number[] } } }).inputs.x.data.some((v) => v > -3 && v < -2.5))).toBe(true);
  }, 60000);

  it('tfjs-wasm shares the tfjs findings; convnetjs’ max pooling starts from −99999', async () => {
    // conv2d first: a seeded probe traps tfjs-wasm's WebAssembly instance, and then nothing more runs
    const w = await runConformance(await loadTarget('tfjs-wasm'), { ops: ['nms', 'relu'], random: 2, seed: 'ci', shrink: false });
    expect(w.failures.map((f) => f.id)).toContain('nms/iou-equals-threshold');
    const wc = await runConformance(await loadTarget('tfjs-wasm'), { ops: ['conv2d'], random: 0, probes: 0, seed: 'ci', shrink: false });
    expect(wc.failures.map((f) => f.id)).toContain('probe/conv2d-non-square-kernel-int-padding');
    const c = await runConformance(await loadTarget('convnetjs'), { random: 4, seed: 'ci' });
    const mp = c.failures.find((f) => f.id === 'probe/maxPool2d-very-negative');
    expect(mp?.message).toContain('expected -200000, got -99999');
    expect(c.failures.filter((f) => f.op === 'conv2d')).toEqual([]);
    expect(c.rows.filter((r) => r.op === 'conv2d').reduce((s, r) => s + r.passed, 0)).toBeGreaterThan(1);
  }, 60000);

  it('two tfjs targets in one process each run on their own backend', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const cpu = await loadTarget('tfjs-cpu');
    const wasm = await loadTarget('tfjs-wasm');
    const x = { x: (await import('../src/index.js')).fromData([-1, 2], [2]) };
    await cpu.ops.relu.run(x, {});
    expect(tf.getBackend()).toBe('cpu');
    await wasm.ops.relu.run(x, {});
    expect(tf.getBackend()).toBe('wasm');
  });

  it('our accelerated backend conforms everywhere it is implemented', async () => {
    const r = await runConformance(await loadTarget('accelerated'), { random: 3, seed: 'ci' });
    expect(r.failures.map((f) => `${f.id}: ${f.message}`)).toEqual([]);
    expect(r.rows.reduce((s, w) => s + w.passed, 0)).toBeGreaterThan(80);
  }, 60000);

  it('our simd backend conforms everywhere it is implemented', async () => {
    const r = await runConformance(await loadTarget('simd'), { random: 3, seed: 'ci' });
    expect(r.failures.map((f) => `${f.id}: ${f.message}`)).toEqual([]);
    // every op of simd's kernel table (the backend registers it itself) ran
    expect(backendOps('simd').length).toBeGreaterThan(10);
    expect([...new Set(r.rows.map((w) => w.op))].sort()).toEqual(backendOps('simd').sort());
    expect(r.rows.reduce((s, w) => s + w.passed, 0)).toBeGreaterThan(20);
  }, 60000);

  it('a user adapter file: the naive softmax overflows and is reported with a reproducer', async () => {
    const r = await runConformance(await loadTarget(join(ROOT, 'examples', 'adapters', 'conformance-naive.mjs')), { random: 2, seed: 'ci' });
    const f = r.failures.find((x) => x.op === 'softmax');
    expect(f).toBeDefined();
    expect(f!.message).toMatch(/NaN|mismatched/);
    expect(r.failures.filter((x) => x.op === 'relu')).toEqual([]);
  });

  it('regions name the params that differ from their defaults', async () => {
    const op = getOp('conv2d');
    expect(regionOf(op, {})).toBe('defaults');
    expect(regionOf(op, { stride: [1, 1], padding: [0, 0, 0, 0] })).toBe('defaults');
    expect(regionOf(op, { stride: 2, padding: [1, 0, 1, 0] })).toBe('padding:asymmetric stride');
    expect(regionOf(getOp('avgPool2d'), { kernelSize: 2, countIncludePad: false })).toBe('countIncludePad=false');
  });

  it('the CLI prints a table, markdown or JSON, and rejects an unknown target or op', async () => {
    const cli = (args: string[]) => runCli(args);
    const md = await cli(['conformance', '--target', 'tfjs-cpu', '--ops', 'relu,nms', '--random', '2', '--format', 'markdown']);
    expect(md.status).toBe(1); // tfjs's NMS fails a case: exit 1, the CI gate
    expect((await cli(['conformance', '--target', 'tfjs-cpu', '--ops', 'relu', '--random', '2'])).status).toBe(0);
    expect(md.stdout).toContain('| op | region | passed | failed | unsupported | worst ULP | worst rel. | worst × allowance |');
    expect(md.stdout).not.toContain('Hi, looks like');
    expect((await cli(['conformance', '--target', 'nope'])).status).toBe(2);
    const repro = join(tmpdir(), `repro-${Date.now()}.jsonl`);
    await cli(['conformance', '--target', 'tfjs-cpu', '--ops', 'nms', '--random', '0', '--reproducers', repro]);
    const check = await cli(['check', repro]); // the reproducers carry the reference's expected outputs
    expect(check.stdout).toMatch(/^PASS tfjs-cpu\/nms\/iou-equals-threshold \(nms\)$/m);
    const html = await cli(['conformance', '--target', 'tfjs-cpu', '--ops', 'nms', '--random', '0', '--format', 'html']);
    expect(html.stdout).toMatch(/<table id="rows">[\s\S]*<tr class="failed"><td>nms<\/td>/);
    expect((await cli(['conformance', '--target', 'tfjs-cpu', '--ops', 'roiPool'])).stderr).toContain('does not implement roiPool');
  }, 60000);
});

describe('adapter answers', () => {
  it('every form the catalogue allows passes; a bad answer is an error naming the op and the case', async () => {
    const r = await runConformance(await loadTarget(join(ROOT, 'tests', 'helpers', 'bad-adapter.mjs')), { random: 2, seed: 'ci', shrink: false });
    const sum = (op: string, k: 'passed' | 'failed') => r.rows.filter((w) => w.op === op).reduce((s, w) => s + w[k], 0);
    for (const op of ['relu', 'leakyRelu', 'tanh']) {
      expect(sum(op, 'failed'), op).toBe(0);
      expect(sum(op, 'passed'), op).toBeGreaterThan(2);
    }
    const first = (op: string) => r.failures.find((f) => f.op === op)!;
    for (const op of ['sigmoid', 'softmax', 'logSoftmax', 'conv2d', 'linear', 'maxPool2d', 'avgPool2d']) {
      expect(sum(op, 'passed'), op).toBe(0);
      expect(r.failures.filter((f) => f.op === op).every((f) => !/internal error|Cannot read properties/.test(f.message!)), op).toBe(true);
    }
    expect(first('sigmoid').message).toBe(`careless sigmoid on case ${first('sigmoid').id}: the adapter's answer is not a result: output y is undefined; return an ndarray, a nested array, {shape, data}, or an object keyed by output name`);
    expect(first('softmax').message).toContain(`careless softmax on case ${first('softmax').id}: the adapter's answer is not a result: returned an object with keys wrong, but the outputs are named y`);
    expect(first('logSoftmax').message).toContain('output y is string');
    expect(first('conv2d').message).toBe('threw: conv2d is not ready');
    expect(first('linear').message).toBe('threw: a thrown string');
    expect(first('maxPool2d').message).toContain('ragged nested array');
    expect(first('avgPool2d').message).toContain(`careless avgPool2d on case ${first('avgPool2d').id}: the adapter's unsupported() threw: boom`);
  }, 60000);

  it('an adapter module naming an op the catalogue lacks, or an op without run, is refused by name', async () => {
    const dir = (await import('node:fs')).mkdtempSync(join(tmpdir(), 'adapter-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'a.mjs'), 'export default { name: "a", ops: { conv3d: { run: () => 0 } } };');
    writeFileSync(join(dir, 'b.mjs'), 'export default { name: "b", ops: { relu: {} } };');
    await expect(loadTarget(join(dir, 'a.mjs'))).rejects.toThrow('ops.conv3d is not an op of the catalogue');
    await expect(loadTarget(join(dir, 'b.mjs'))).rejects.toThrow('ops.relu must be an object with a run(inputs, params) function');
  });
});

describe('reproducers keep the failure’s severity and its full precision', () => {
  it('shrinking keeps ≥ 50 % of the error × allowance; the note shows both errors and every value in full, NaN as "NaN"', async () => {
    const { allowances, SEVERITY_KEPT } = await import('../src/judge/index.js');
    const { fromData } = await import('../src/index.js');
    const sig = getOp('sigmoid');
    // a "library" whose sigmoid is off by 40× its allowance where |x| ≥ 2 and by 3× elsewhere:
    // shrinking values to 0 alone would turn a 40× bug into a 3× one
    const given: number[][] = [];
    const target = {
      name: 'off',
      description: 'a sigmoid off by a known multiple of its allowance',
      precision: 'float32' as const,
      ops: {
        sigmoid: {
          run(i: Record<string, import('../src/index.js').Arr>) {
            const want = sig.reference(i, {});
            const a = allowances(sig, i, {}, want, { kind: 'bound', precision: 'float32' }).y;
            const y = Array.from(want.y.data, (v, k) => v + (Math.abs(i.x.data[k]) >= 2 ? 40 : 3) * a(k, v));
            given.push(y);
            return { y: fromData(y, want.y.shape) };
          },
        },
        tanh: { run: (i: Record<string, import('../src/index.js').Arr>) => ({ y: fromData(Array.from(i.x.data, (v) => (v < 0 ? NaN : Math.tanh(v) + 1e-3)), i.x.shape) }) },
      },
    };
    const r = await runConformance(target, { random: 6, seed: 'ci' });
    const severe = r.failures.filter((f) => f.op === 'sigmoid' && f.severity! > 30);
    expect(severe.length).toBeGreaterThan(2);
    for (const f of severe) {
      expect(f.severity).toBeCloseTo(40, 6);
      const x = (f.reproducer as { inputs: { x: { data: number[] } } }).inputs.x.data;
      expect(x.some((v) => Math.abs(v) >= 2), f.id).toBe(true); // the 40× element survived the shrink
      if (f.shrunk) expect(f.shrunk.to).toBeGreaterThanOrEqual(SEVERITY_KEPT * f.shrunk.from);
      expect((f.reproducer as { note: string }).note).toMatch(/; error 40× the allowance( \(the original case: 40× the allowance; shrinking keeps ≥ 50 % of it\))?$/);
      // the note's values are the target's own, bit for bit
      const shown = JSON.parse((f.reproducer as { note: string }).note.slice('off gives '.length).split('; error')[0]).y.data as number[];
      expect(given.some((g) => g.length === shown.length && g.every((v, k) => Object.is(v, shown[k])))).toBe(true);
    }
    expect(reportText(r)).toMatch(/sigmoid\/\S+ \[defaults\]: error 40× the allowance/);
    const t = r.failures.find((f) => f.op === 'tanh' && (f.reproducer as { note: string }).note.includes('"NaN"'));
    expect(t).toBeDefined();
    expect((t!.reproducer as { note: string }).note).not.toContain('null');
    expect(t!.severity).toBe(Infinity);
  }, 60000);
});

describe('seeded probes find the bug areas on their own, and stay finding them', () => {
  const note = (f: { reproducer?: Record<string, unknown> }) => (f.reproducer as { note: string }).note;
  const byId = (r: Awaited<ReturnType<typeof runConformance>>, prefix: string) => r.failures.filter((f) => f.id.startsWith(prefix));
  const total = (r: Awaited<ReturnType<typeof runConformance>>, op: string, k: 'passed' | 'failed' | 'unsupported') => r.rows.filter((w) => w.op === op).reduce((s, w) => s + w[k], 0);

  it('tfjs-cpu: max pooling drops NaN; conv2dTranspose with a numeric padding is wrong; upsample2d agrees', async () => {
    const r = await runConformance(await loadTarget('tfjs-cpu'), { ops: ['maxPool2d', 'convTranspose2d', 'upsample2d'], random: 4, seed: 'ci' });
    const nan = byId(r, 'probe/maxPool2d-nan-in-window');
    expect(nan.length).toBeGreaterThan(2);
    expect(nan.every((f) => f.severity === Infinity && /"NaN"/.test(JSON.stringify((f.reproducer as { expected: unknown }).expected)))).toBe(true);
    const ct = byId(r, 'probe/convTranspose2d-non-square-int-padding');
    expect(ct.length).toBeGreaterThan(2);
    expect(ct.every((f) => f.region.startsWith('padding:int'))).toBe(true);
    expect(Math.max(...ct.map((f) => f.severity!))).toBeGreaterThan(1000); // silently wrong values, not rounding
    expect(r.failures.filter((f) => f.op === 'convTranspose2d' && !f.region.includes('padding:int'))).toEqual([]);
    expect(r.failures.filter((f) => f.op === 'upsample2d').map((f) => f.id)).toEqual([]);
    expect(total(r, 'upsample2d', 'passed')).toBeGreaterThan(10);
  }, 120000);

  it('tfjs-wasm: −Infinity for a NaN window; a non-square conv2d with a numeric padding traps its WebAssembly instance', async () => {
    const r = await runConformance(await loadTarget('tfjs-wasm'), { ops: ['maxPool2d'], random: 0, seed: 'ci' });
    expect(byId(r, 'probe/maxPool2d-nan-in-window').some((f) => note(f).includes('"-Infinity"'))).toBe(true);
    // in a process of its own: a trapped instance stays broken for the rest of the process
    const out = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), 'conformance', '--target', 'tfjs-wasm', '--ops', 'conv2d,relu', '--random', '0', '--seed', 'ci', '--format', 'json'], { encoding: 'utf8' });
    expect(out.status).toBe(1);
    const c = JSON.parse(out.stdout) as Awaited<ReturnType<typeof runConformance>>;
    expect(out.stdout).not.toContain('null'); // non-finite numbers are written as strings, as in case files
    expect(c.failures.find((f) => f.message === 'threw: memory access out of bounds')?.severity).toBe('Infinity');
    expect(c.failures.find((f) => f.message === 'threw: memory access out of bounds')?.id).toMatch(/^probe\/conv2d-non-square-int-padding/);
    expect(c.rows.find((w) => w.op === 'relu')!.reasons[0]).toMatch(/^not run: tfjs-wasm's WebAssembly instance trapped on probe\/conv2d-non-square-int-padding/);
  }, 120000);

  it('onnxruntime: sigmoid is 0 for x ≤ −18; MaxPool drops NaN unless it comes first; Resize agrees', async () => {
    const r = await runConformance(await loadTarget('onnxruntime'), { ops: ['sigmoid', 'maxPool2d', 'upsample2d'], random: 2, seed: 'ci' });
    const tails = byId(r, 'probe/sigmoid-tails');
    expect(tails.length).toBeGreaterThan(2);
    const zero = tails.find((f) => {
      const x = (f.reproducer as { inputs: { x: { data: number[] } } }).inputs.x.data;
      const y = JSON.parse(note(f).slice('onnxruntime gives '.length).split('; error')[0]).y.data as number[];
      return x.some((v, k) => v <= -18 && y[k] === 0);
    });
    expect(zero).toBeDefined();
    expect(zero!.severity).toBeGreaterThan(1e6); // a relative error of 1
    expect(byId(r, 'probe/maxPool2d-nan-in-window').length).toBeGreaterThan(2);
    expect(r.failures.filter((f) => f.op === 'upsample2d').map((f) => f.id)).toEqual([]);
    expect(total(r, 'upsample2d', 'passed')).toBeGreaterThan(10);
  }, 120000);

  it('convnetjs runs its activations on every case (any tensor as one Vol) and agrees', async () => {
    const r = await runConformance(await loadTarget('convnetjs'), { ops: ['relu', 'sigmoid', 'tanh'], random: 4, seed: 'ci' });
    for (const op of ['relu', 'sigmoid', 'tanh']) {
      expect(total(r, op, 'unsupported'), op).toBe(0);
      expect(total(r, op, 'failed'), op).toBe(0);
      expect(total(r, op, 'passed'), op).toBeGreaterThan(8);
    }
  });
});

describe('adapters cost nothing they need not', () => {
  it('the tfjs adapter leaves no tensor behind and uploads a filter once', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const { fromData } = await import('../src/index.js');
    const target = await loadTarget('tfjs-cpu');
    const x = fromData(Array.from({ length: 2 * 5 * 5 }, (_, i) => i % 7), [1, 2, 5, 5]);
    const w1 = fromData(Array.from({ length: 3 * 2 * 3 * 3 }, (_, i) => (i % 5) - 2), [3, 2, 3, 3]);
    const w2 = fromData(Array.from({ length: 3 * 2 * 3 * 3 }, (_, i) => (i % 3) - 1), [3, 2, 3, 3]);
    const bias = fromData([1, 2, 3], [3]);
    const p = { stride: 1, padding: 1, dilation: 1, groups: 1 };
    const base = tf.memory().numTensors;
    const first = await target.ops.conv2d.run({ x, weight: w1, bias }, p);
    expect(tf.memory().numTensors).toBe(base + 1); // the kept filter, nothing else
    for (let k = 0; k < 5; k++) await target.ops.conv2d.run({ x, weight: w1, bias }, p);
    expect(tf.memory().numTensors).toBe(base + 1);
    await target.ops.conv2d.run({ x, weight: w2 }, p);
    expect(tf.memory().numTensors).toBe(base + 1); // a new filter replaces the old one
    const again = await target.ops.conv2d.run({ x, weight: w1, bias }, p);
    expect(Array.from(again.y.data)).toEqual(Array.from(first.y.data));
    expect(first.y.data[0]).toBe(getOp('conv2d').reference({ x, weight: w1, bias }, p).y.data[0]); // small integers: exact in float32
    await target.ops.relu.run({ x }, {});
    await target.ops.nms.run({ boxes: fromData([0, 0, 2, 2, 1, 1, 3, 3], [2, 4]), scores: fromData([1, 0.5], [2]) }, { iouThreshold: 0.5, boxFormat: 'xyxy' });
    expect(tf.memory().numTensors).toBe(base + 1);
    await target.dispose!();
    expect(tf.memory().numTensors).toBe(base);
  });
});
