import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseModel, summarize, type Model } from '../src/exercises/summary.js';
import { cli as runCli } from './helpers/cli.js';

const ROOT = join(__dirname, '..');
const cli = (args: string[]) => runCli(args, { cwd: ROOT });
const load = (f: string) => parseModel(JSON.parse(readFileSync(join(ROOT, 'exercises', 'models', f), 'utf8')));
const params = (m: Model) => {
  const t = summarize(m).total;
  return t.weights + t.biases;
};
const model = (layers: unknown[], input = [4, 4, 3]) => parseModel({ name: 't', input, layers });
const errorOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('model summaries', () => {
  it('VGG-16 reproduces the course table', async () => {
    const { rows, total } = summarize(load('vgg16.json'));
    expect(total.weights).toBe(138344128);
    expect(total.weights + total.biases).toBe(138357544);
    expect(total.activations).toBe(15237608);
    expect(rows.find((r) => r.name === 'fc1')!.weights).toBe(102760448);
    expect(rows.find((r) => r.name === 'conv1')!.activations).toBe(224 * 224 * 64);
    expect(rows.find((r) => r.name === 'maxpool5')!.shape).toEqual([7, 7, 512]);
  });

  it('AlexNet conv1 and LeNet-5 match the walk-throughs', async () => {
    const a = summarize(load('alexnet.json')).rows.find((r) => r.name === 'conv1')!;
    expect([a.shape, a.weights + a.biases, a.activations]).toEqual([[55, 55, 96], 34944, 290400]);
    const l = summarize(load('lenet5.json')).rows;
    expect(l.map((r) => r.shape.join('×'))).toEqual(['32×32×1', '28×28×6', '28×28×6', '14×14×6', '10×10×16', '10×10×16', '5×5×16', '400', '120', '120', '84', '84', '10']);
  });

  it('grouped convolutions: AlexNet’s “60M” is the two-GPU network, 60,965,224; ungrouped 62,378,344', async () => {
    // conv2, conv4, conv5 in 2 groups: 5×5×48, 3×3×192, 3×3×192 per filter (deck 002)
    const fcs = (6 * 6 * 256 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000;
    expect(params(load('alexnet-grouped.json'))).toBe((11 * 11 * 3 + 1) * 96 + (5 * 5 * 48 + 1) * 256 + (3 * 3 * 256 + 1) * 384 + (3 * 3 * 192 + 1) * 384 + (3 * 3 * 192 + 1) * 256 + fcs);
    expect(params(load('alexnet-grouped.json'))).toBe(60965224);
    expect(params(load('alexnet.json'))).toBe(62378344);
    const g = summarize(load('alexnet-grouped.json')).rows.find((r) => r.name === 'conv2')!;
    expect([g.weights, g.macs]).toEqual([5 * 5 * 48 * 256, 27 * 27 * 256 * 5 * 5 * 48]);
  });

  it('residual adds and global pooling: torchvision’s ResNet-18 has 11,689,512 parameters', async () => {
    const { rows, total } = summarize(load('resnet18.json'));
    expect(total.weights + total.biases).toBe(11689512);
    const row = (n: string) => rows.find((r) => r.name === n)!;
    expect(row('layer1.0.add').shape).toEqual([56, 56, 64]);
    expect(row('layer4.1').shape).toEqual([7, 7, 512]);
    expect(row('avgpool').shape).toEqual([1, 1, 512]);
    expect(row('fc')).toMatchObject({ shape: [1000], weights: 512 * 1000, biases: 1000 });
    // the downsample shortcut: a 1×1 stride-2 conv without bias and its batch norm
    expect(row('layer2.0.downsample.0')).toMatchObject({ shape: [28, 28, 128], weights: 64 * 128, biases: 0 });
  });

  it('concatenation: the Inception modules of deck 001 (854M and 271M conv operations)', async () => {
    const naive = summarize(load('inception-naive.json'));
    expect(naive.rows.at(-1)!.shape).toEqual([28, 28, 128 + 192 + 96 + 256]);
    expect(naive.total.macs).toBe(28 * 28 * 128 * 1 * 1 * 256 + 28 * 28 * 192 * 3 * 3 * 256 + 28 * 28 * 96 * 5 * 5 * 256);
    const reduced = summarize(load('inception-reduced.json'));
    expect(reduced.rows.at(-1)!.shape).toEqual([28, 28, 128 + 192 + 96 + 64]);
    expect(reduced.total.macs).toBe(28 * 28 * (64 * 256 + 64 * 256 + 128 * 256 + 192 * 9 * 64 + 96 * 25 * 64 + 64 * 256));
  });

  it('dilated convs widen the receptive field (k_eff = d·(k − 1) + 1)', async () => {
    const { rows } = summarize(model([{ type: 'conv', filters: 8, kernel: 3, dilation: 2, padding: 2 }, { type: 'conv', filters: 8, kernel: 3, dilation: 4, padding: 4 }], [32, 32, 3]));
    expect(rows.map((r) => [r.shape, r.receptiveField])).toEqual([[[32, 32, 3], 1], [[32, 32, 8], 5], [[32, 32, 8], 13]]);
  });

  it('a layer that does not fit, a wrong reference or an unsupported type is an error naming the layer', async () => {
    expect(errorOf(() => summarize(model([{ type: 'maxpool', kernel: 5 }])))).toBe('model /layers/0: maxpool on its 4×4×3 input: the height 4 (padded 4) is smaller than the kernel 5');
    expect(errorOf(() => summarize(model([{ type: 'conv', filters: 2, kernel: 5 }])))).toContain('model /layers/0: conv on its 4×4×3 input: the dilated kernel (5×5) is larger than the padded input (4×4)');
    expect(errorOf(() => summarize(model([{ type: 'conv', filters: 4, kernel: 1, groups: 2 }])))).toContain('groups = 2 must divide the 3 input channels');
    expect(errorOf(() => parseModel({ name: 't', input: [4, 4, 3], layers: [{ type: 'relu' }, { type: 'lstm', units: 3 }] }))).toBe(
      'model /layers/1/type: unsupported layer type "lstm" (supported: conv, maxpool, avgpool, globalavgpool, globalmaxpool, fc, bn, add, concat, relu, sigmoid, tanh, dropout, flatten, softmax)',
    );
    expect(errorOf(() => summarize(model([{ type: 'conv', name: 'a', filters: 2, kernel: 1 }, { type: 'conv', name: 'b', input: 'input', filters: 3, kernel: 1 }, { type: 'add', input: ['a', 'b'] }])))).toBe(
      'model /layers/2/input/1: add needs equal shapes, got 4×4×2 and 4×4×3',
    );
    expect(errorOf(() => summarize(model([{ type: 'maxpool', name: 'p', kernel: 2 }, { type: 'concat', input: ['p', 'input'] }])))).toContain('concat needs the same shape but for the channels');
    expect(errorOf(() => summarize(model([{ type: 'relu', input: 'nope' }])))).toBe('model /layers/0/input: no earlier layer named "nope"');
    expect(errorOf(() => summarize(model([{ type: 'relu', name: 'x' }, { type: 'relu', name: 'x' }])))).toBe('model /layers/1/name: a second layer named "x"');
    expect(errorOf(() => summarize(model([{ type: 'fc', units: 3 }, { type: 'conv', filters: 2, kernel: 1 }])))).toContain('model /layers/1: a conv layer needs an H×W×C input');
    expect(errorOf(() => parseModel({ name: 'x', input: [32, 32, 3], layers: [{ type: 'conv', kernel: 3 }] }))).toContain('/layers/0');
    expect(errorOf(() => parseModel({ name: 'x', input: [32, 32, 3], layers: [{ type: 'add', input: 'input' }] }))).toContain('/layers/0/input');
  });

  it('the CLI prints the table and exits 2 on a bad model', { timeout: 30000 }, async () => {
    expect((await cli(['summary', 'exercises/models/vgg16.json'])).stdout).toContain('parameters: 138,344,128 weights, 138,357,544 with biases; activations: 15,237,608 values');
    expect((await cli(['summary', 'exercises/models/resnet18.json'])).stdout).toContain('11,689,512 with biases');
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    writeFileSync(join(dir, 'm.json'), JSON.stringify({ name: 't', input: [4, 4, 3], layers: [{ type: 'maxpool', kernel: 5 }] }));
    const r = await cli(['summary', join(dir, 'm.json')]);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe(`cnn-oracle: ${join(dir, 'm.json')}: model /layers/0: maxpool on its 4×4×3 input: the height 4 (padded 4) is smaller than the kernel 5\n`);
  });
});
