/**
 * The one validation path on the inputs that used to crash, hang or answer wrongly (issue 16's
 * battery): each is now a named error, the same on every backend.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRaw, evaluateRaw, parseCases } from '../src/cases.js';
import { getOp, resolveParams } from '../src/registry.js';
import { fromData } from '../src/tensor.js';
import { cli } from './helpers/cli.js';

const t = (shape: number[], data?: (number | string)[], dtype?: string) => ({ shape, data: data ?? new Array(shape.reduce((a, b) => a * b, 1)).fill(1), ...(dtype ? { dtype } : {}) });
const x4 = t([1, 1, 4, 4]);

async function evalText(text: string, backend: 'reference' | 'simd' | 'accelerated' = 'reference') {
  return (await evaluateRaw(parseCases(text, 'case.json')[0], backend)).result;
}
const evalCase = (c: object, backend?: 'reference' | 'simd' | 'accelerated') => evalText(JSON.stringify(c), backend);

describe('cases that used to run out of memory or loop for ever are TOO_LARGE, naming the field', () => {
  const cases: [string, object, string][] = [
    ['upsample2d scaleFactor 5000', { op: 'upsample2d', inputs: { x: x4 }, params: { scaleFactor: 5000 } }, '/params/scaleFactor'],
    ['adaptiveAvgPool2d outputSize 1e9', { op: 'adaptiveAvgPool2d', inputs: { x: x4 }, params: { outputSize: 1e9 } }, '/params/outputSize'],
    ['roiAlign box 1e9 (adaptive sampling)', { op: 'roiAlign', inputs: { x: x4, boxes: t([1, 5], [0, 0, 0, 1e9, 3]) }, params: { outputSize: 2 } }, '/inputs/boxes'],
    ['roiAlign box 1e308', { op: 'roiAlign', inputs: { x: x4, boxes: t([1, 5], [0, 0, 0, 1e308, 3]) }, params: { outputSize: 2 } }, '/inputs/boxes'],
    ['roiAlign samplingRatio 1e9', { op: 'roiAlign', inputs: { x: x4, boxes: t([1, 5], [0, 0, 0, 2, 3]) }, params: { outputSize: 2, samplingRatio: 1e9 } }, '/params/samplingRatio'],
    ['conv2d padding 100000', { op: 'conv2d', inputs: { x: t([1, 1, 1, 1]), weight: t([1, 1, 1, 1]) }, params: { padding: 100000 } }, '/params/padding'],
    ['convTranspose2d stride 1e8', { op: 'convTranspose2d', inputs: { x: t([1, 1, 2, 2]), weight: t([1, 1, 1, 1]) }, params: { stride: 100000000 } }, '/params/stride'],
  ];
  for (const [what, c, path] of cases) {
    it(what, async () => {
      for (const backend of ['reference', 'simd', 'accelerated'] as const) {
        const r = await evalCase(c, backend);
        if (r.error?.code === 'UNSUPPORTED') continue;
        expect(r.error, `${backend}`).toMatchObject({ code: 'TOO_LARGE', path });
        expect(r.error!.message).toMatch(/budget .*--max-(elements|work) raises it/);
      }
    });
  }

  it('localResponseNorm with a size far past the channels runs in C steps a value (the window is clipped)', async () => {
    const r = await evalCase({ op: 'localResponseNorm', inputs: { x: t([1, 2, 1, 1], [1, 2]) }, params: { size: 1e9, alpha: 1e9, beta: 1, k: 0 } });
    // y_c = x_c / (α/n · Σ x²) with n = 1e9, α = 1e9: Σ over both channels = 5
    expect(r.outputs!.y.data).toEqual([1 / 5, 2 / 5]);
  });
});

describe('silent wrong answers are named errors', () => {
  it('1e400 (Infinity once parsed) is not an integer stride', async () => {
    const r = await evalText('{"op":"conv2d","inputs":{"x":{"shape":[1,1,3,3],"data":[1,1,1,1,1,1,1,1,1]},"weight":{"shape":[1,1,1,1],"data":[1]}},"params":{"stride":1e400}}');
    expect(r.error).toMatchObject({ code: 'INVALID_CASE', path: '/params/stride' });
    const d = await evalText('{"op":"relu","inputs":{"x":{"shape":[1],"data":[1e400]}}}');
    expect(d.error).toMatchObject({ path: '/inputs/x/data/0' });
    expect(d.error!.message).toContain('write "Infinity"');
  });

  it('a kernel of size 0 and any other empty axis are rejected, empty box lists are not', async () => {
    const r = await evalCase({ op: 'conv2d', inputs: { x: x4, weight: t([1, 1, 0, 2]) } });
    expect(r.error).toMatchObject({ code: 'INVALID_INPUTS', path: '/inputs/weight/shape/2' });
    for (const backend of ['simd', 'accelerated'] as const) expect((await evalCase({ op: 'conv2d', inputs: { x: x4, weight: t([1, 1, 0, 2]) } }, backend)).error?.path).toBe('/inputs/weight/shape/2');
    const nms = await evalCase({ op: 'nms', inputs: { boxes: t([0, 4], []), scores: t([0], []) }, params: { iouThreshold: 0.5 } });
    expect(nms.outputs!.keep).toMatchObject({ shape: [0], data: [] });
  });

  it('__proto__ and constructor keys are rejected by name, in inputs, params and expected', async () => {
    expect((await evalText('{"op":"relu","inputs":{"__proto__":{"shape":[2],"data":[1,-1]}}}')).error).toMatchObject({ code: 'INVALID_CASE', path: '/inputs/__proto__' });
    expect((await evalText('{"op":"relu","inputs":{"x":{"shape":[1],"data":[1]}},"params":{"constructor":1}}')).error).toMatchObject({ path: '/params/constructor' });
    const check = await checkRaw(parseCases('{"op":"relu","inputs":{"x":{"shape":[1],"data":[1]}},"expected":{"__proto__":{"shape":[1],"data":[0]}}}', 'c.json')[0], 'reference');
    expect(check.ok).toBe(false);
    expect(check.message).toContain('/expected/__proto__');
  });

  it('backward ops go through their forward op: a wrong weight or target is named', async () => {
    const lin = await evalCase({ op: 'linearBackward', inputs: { x: t([2, 3]), weight: t([4, 5]), dy: t([2, 4]) } });
    expect(lin.error).toMatchObject({ code: 'INVALID_INPUTS', path: '/inputs/weight/shape/1' });
    const ce = await evalCase({ op: 'crossEntropyBackward', inputs: { logits: t([2, 3]), target: t([5], [0, 1, 2, 0, 1], 'int64'), dy: t([]) } });
    expect(ce.error).toMatchObject({ code: 'INVALID_INPUTS', path: '/inputs/target/shape' });
    const dy = await evalCase({ op: 'conv2dBackward', inputs: { x: x4, weight: t([1, 1, 3, 3]), dy: t([1, 1, 3, 3]) } });
    expect(dy.error).toMatchObject({ path: '/inputs/dy/shape' });
    expect(dy.error!.message).toContain('[1, 1, 2, 2]');
  });

  it('roiPool and roiAlign refuse non-finite boxes instead of answering −FLT_MAX', async () => {
    for (const op of ['roiPool', 'roiAlign']) {
      const r = await evalCase({ op, inputs: { x: x4, boxes: t([1, 5], [0, 'NaN', 0, 2, 3]) }, params: { outputSize: 2 } });
      expect(r.error).toMatchObject({ code: 'INVALID_INPUTS', path: '/inputs/boxes/data/1' });
    }
  });

  it('the fast backends reject what the reference rejects (wrong-length batch-norm vectors, bias)', async () => {
    const bn = { op: 'batchNorm', inputs: { x: x4, runningMean: t([2]), runningVar: t([2]) } };
    const bias = { op: 'conv2d', inputs: { x: x4, weight: t([2, 1, 3, 3]), bias: t([3]) } };
    for (const backend of ['reference', 'simd', 'accelerated'] as const) {
      expect((await evalCase(bn, backend)).error, backend).toMatchObject({ path: '/inputs/runningMean/shape' });
      expect((await evalCase(bias, backend)).error, backend).toMatchObject({ path: '/inputs/bias/shape' });
    }
  });

  it('the library API goes through the same path: op.reference checks what eval checks', () => {
    const op = getOp('linear');
    expect(() => op.reference({ x: fromData([1, 2, 3], [1, 3]), weight: fromData([1, 2], [1, 2]) }, resolveParams(op, {}))).toThrow(/weight has 2 input features but x has 3/);
  });
});

describe('the command line', () => {
  it('a full disk or a missing folder for --out is exit 2 with one line, no stack trace', async () => {
    for (const out of ['/dev/full', '/nonexistent-dir/out.jsonl']) {
      const r = await cli(['eval', join(__dirname, '..', 'fixtures', 'activation', 'relu.jsonl'), '--out', out]);
      expect(r.status, out).toBe(2);
      expect(r.stderr.trim().split('\n'), out).toHaveLength(1);
      expect(r.stderr).toMatch(/^cnn-oracle: cannot write /);
    }
  });

  it('100,000 nested arrays are an error naming the field, and --max-elements raises the budget', async () => {
    const deep = `{"op":"relu","inputs":{"x":{"shape":[1],"data":[1]}},"params":{"a":${'['.repeat(100000)}${']'.repeat(100000)}}}`;
    const r = await cli(['eval', '-'], { input: deep });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'INVALID_CASE' });
    expect(JSON.parse(r.stdout).error.message).toContain('nested more than 64 levels');
    const up = JSON.stringify({ op: 'upsample2d', inputs: { x: t([1, 1, 2, 2]) }, params: { scaleFactor: 3 } });
    const small = await cli(['eval', '-', '--max-elements', '10'], { input: up });
    expect(JSON.parse(small.stdout).error).toMatchObject({ code: 'TOO_LARGE', path: '/params/scaleFactor' });
    // a flag of one run does not carry over to the next in the same process
    expect(JSON.parse((await cli(['eval', '-'], { input: up })).stdout).outputs.y.shape).toEqual([1, 1, 6, 6]);
    const ok = await cli(['eval', '-', '--max-elements', '36'], { input: up });
    expect(JSON.parse(ok.stdout).outputs.y.shape).toEqual([1, 1, 6, 6]);
    expect(JSON.parse((await cli(['eval', '-'], { input: up, env: { CNN_ORACLE_MAX_ELEMENTS: '10' } })).stdout).error.code).toBe('TOO_LARGE');
    // nor into the library after the run: neither the flag nor the budget the run read from the environment
    await cli(['eval', '-', '--max-elements', '10'], { input: up });
    expect((await evaluateRaw(parseCases(up, 'up.json')[0], 'reference')).result).toMatchObject({ outputs: { y: { shape: [1, 1, 6, 6] } } });
    await cli(['eval', '-'], { input: up, env: { CNN_ORACLE_MAX_ELEMENTS: '10' } });
    expect((await evaluateRaw(parseCases(up, 'up.json')[0], 'reference')).result).toMatchObject({ outputs: { y: { shape: [1, 1, 6, 6] } } });
  });
});
