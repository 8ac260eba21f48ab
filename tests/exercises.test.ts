import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { checkAnswer, getExercise, gradeSheet, kindOf, loadBank, parseAnswer, sameAnswer, solutionText, variantParams } from '../src/exercises/bank.js';
import { parseModel, summarize } from '../src/exercises/summary.js';
import { convOutput, convParams, receptiveField, transposedOutput, poolOutput, linearParams } from '../src/exercises/sizes.js';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
const answer = (id: string) => kindOf(getExercise(id)).answer(getExercise(id).params);

/** The checked numbers of shared/spec/exercises.md, exercise by exercise. */
const EXPECTED: Record<string, unknown> = {
  'output-size/7x7-k3-s1': 5,
  'output-size/7x7-k3-s2': 3,
  'output-size/7x7-k3-s3': 'none',
  'padding/same-f3': 1,
  'padding/same-f5': 2,
  'padding/same-f7': 3,
  'output-size/32x32x3-10f5-p2': [32, 32, 10],
  'output-size/32-repeated-5x5': 24,
  'output-size/w5-f3-p1-s1': 5,
  'output-size/w5-f3-p1-s2': 3,
  'output-size/demo-5x5x3-k2': [3, 3, 2],
  'output-size/7x9-k3-s2': [3, 4],
  'output-size/10x10-f5-p1': [8, 8],
  'output-size/32x32x3-f5-z2': 32,
  'output-size/alexnet-conv1': [55, 55, 96],
  'output-size/alexnet-conv1-224': [55, 55, 96],
  // ⌊(6 + 0 + 1 − 3)/2⌋ + 1 = 3 per axis
  'output-size/asymmetric-padding': [3, 3],
  // k_eff = 2·(3 − 1) + 1 = 5: (32 + 4 − 5)/1 + 1 = 32
  'output-size/dilated': 32,
  // (4 − 1)·2 − 2 + 2 + 1 + 1 = 8: exactly doubles
  'output-size/transposed-4x4-s2': 8,
  // (2 − 1)·2 − 2 + 2 + 1 = 3
  'output-size/transposed-2x2-s2': 3,
  'pool/overlapping-55': 27,
  'pool/parameters': 0,
  'pool/2x2-discarded': 75,
  'volume/inception-concat': [28, 28, 672],
  'params/10f5-per-filter': 76,
  'params/10f5-total': 760,
  'params/conv1-k8': 608,
  'params/conv2-k16': 3216,
  'params/conv3-k32': 544,
  'lenet/conv1-output-width': 28,
  'lenet/conv1-weights-per-filter': 26,
  'lenet/conv1-neurons': 4704,
  'lenet/conv1-connections': 122304,
  'lenet/conv1-parameters': 156,
  'alexnet/conv1-weights-per-filter': 364,
  'alexnet/conv1-neurons': 290400,
  'alexnet/conv1-connections': 105705600,
  'alexnet/conv1-parameters': 34944,
  'alexnet/conv1-weights-no-sharing': 105705600,
  'stack/3x3x3-receptive-field': 7,
  'stack/3x3x3-weights': 27,
  'stack/7x7-weights': 49,
  'fc-as-conv/shape': [1, 1, 4096],
  'fc-as-conv/weights': 102760448,
  'volume/1x1-conv': [56, 56, 32],
  'vgg16/weights': 138344128,
  'vgg16/parameters': 138357544,
  'vgg16/activations': 15237608,
  'vgg16/fc1-weights': 102760448,
  'by-hand/vector-convolution': [0, 1, 2, -1, -2],
  'by-hand/sobel': [[-13, -20, -17], [-18, -24, -18], [13, 20, 17]],
  'by-hand/batch-norm-mean': 4.5,
  'by-hand/batch-norm-variance': 5.25,
  'by-hand/batch-norm-y': [[[-2.2913, -0.982], [-1.6366, -0.3273]], [[0.3273, 1.6366], [0.982, 2.2913]]],
  'by-hand/max-pool': [[6, 8], [3, 4]],
  'by-hand/avg-pool': [[3.25, 5.25], [2, 2]],
  'by-hand/unpool-nearest': [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]],
  'by-hand/unpool-bed-of-nails': [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]],
  'by-hand/max-unpool': [[0, 0, 2, 0], [0, 1, 0, 0], [3, 0, 0, 0], [0, 0, 0, 4]],
  // [a, b] = [2, 3] with kernel [x, y, z] = [1, 10, 100], stride 2: [ax, ay, az + bx, by, bz, 0]
  'by-hand/transposed-conv-1d': [2, 20, 203, 30, 300, 0],
  'by-hand/transposed-conv-1d-k2': [1, 10, 2, 20, 3, 30],
  'by-hand/iou': 6 / 26,
  'by-hand/nms': [0, 2],
  // e^[3.2, 5.1, −1.7] = [24.53, 164.0, 0.1827], sum 188.7 (the CS231n cat-score example: loss 2.04)
  'by-hand/softmax': [0.12998, 0.86905, 0.00096793],
  'by-hand/cross-entropy': 2.0404,
  // x 1…5 (5 wide), y 1…4 (4 high) → bins rows {1,2},{3,4} × cols {1,2,3},{3,4,5}
  'by-hand/roi-pool': [[8, 9], [8, 6]],
  // r: 1 → 3 → 5 (j = 2) → 9 → 11 (j = 4) → 19
  'receptive-field/strided': 19,
  'detector/rpn-objectness': [9, 20, 15],
  'detector/rpn-boxes': [36, 20, 15],
  'detector/yolo': [7, 7, 30],
};

describe('the exercise bank', () => {
  it('validates against its schema and every exercise has a known kind', () => {
    expect(loadBank().length).toBeGreaterThanOrEqual(60);
    for (const e of loadBank()) expect(kindOf(e), e.id).toBeDefined();
  });

  for (const [id, want] of Object.entries(EXPECTED)) {
    it(`${id} = ${JSON.stringify(want)} (computed, checked against the notes)`, () => {
      const e = getExercise(id);
      expect(sameAnswer(answer(id), want as never, kindOf(e).exact), JSON.stringify(answer(id))).toBe(true);
      expect(checkAnswer(e, {}, want as never).correct).toBe(true);
      expect(solutionText(e).length).toBeGreaterThan(0);
    });
  }

  it('every exercise of the bank is covered above', () => {
    expect(loadBank().map((e) => e.id).filter((id) => !(id in EXPECTED))).toEqual([]);
  });

  it('errata: the notes’ wrong values are recognised and explained', () => {
    const r = checkAnswer(getExercise('output-size/10x10-f5-p1'), {}, [10, 10]);
    expect(r.correct).toBe(false);
    expect(r.erratum).toContain('padding 2');
    expect(checkAnswer(getExercise('vgg16/activations'), {}, 24000000).erratum).toContain('15,237,608');
    expect(checkAnswer(getExercise('output-size/alexnet-conv1-224'), {}, [55.25, 55.25, 96]).erratum).toContain('round down');
    expect(checkAnswer(getExercise('by-hand/batch-norm-variance'), {}, Math.sqrt(5.25)).erratum).toContain('σ²');
  });

  it.each([
    ['by-hand/batch-norm-variance', 6, 'unbiased variance'],
    // 1.5·(x − 4.5)/√6 (the unbiased variance is 6)
    ['by-hand/batch-norm-y', [[[-2.1433, -0.9186], [-1.5309, -0.3062]], [[0.3062, 1.5309], [0.9186, 2.1433]]], 'unbiased variance'],
    ['params/10f5-total', 750, 'forgot the biases'],
    ['params/10f5-per-filter', 26, 'forgot the input depth'],
    ['output-size/w5-f3-p1-s1', 3, 'forgot the padding'],
    ['output-size/7x7-k3-s3', 2, 'rounded down'],
    ['output-size/7x7-k3-s3', 2.3333, 'did not round down'],
    ['by-hand/vector-convolution', [2, 1, -2, -1, 0], 'did not flip'],
    ['by-hand/nms', [0, 2], ''],
    ['by-hand/iou', 12 / 38, '+1 pixel'],
    ['by-hand/cross-entropy', 0.8861, 'log base 10'],
    ['receptive-field/strided', 10, 'ignored the strides'],
    ['output-size/dilated', 34, 'ignored the dilation'],
    ['output-size/dilated', 30, 'padded one side only'],
    ['output-size/transposed-4x4-s2', 7, 'forgot the output padding'],
    ['output-size/asymmetric-padding', [3, 3], ''],
    ['stack/3x3x3-receptive-field', 9, 'added the kernel sizes'],
    ['detector/yolo', [7, 7, 28], 'confidence'],
    ['detector/yolo', [7, 7, 25], 'one box per cell'],
    ['by-hand/transposed-conv-1d', [2, 20, 3, 30, 300, 0], 'overwrote'],
  ])('%s: the answer %j is diagnosed (%s)', (id, ans, label) => {
    const r = checkAnswer(getExercise(id), {}, ans as never);
    if (!label) return expect(r.correct).toBe(true);
    expect(r.correct).toBe(false);
    expect(r.mistake).toContain(label);
  });

  it('variants differ per student and are reproducible; variant 0 is the notes’ numbers', () => {
    for (const e of loadBank()) {
      const a1 = variantParams(e, { student: 'ada' });
      expect(variantParams(e, { student: 'ada' }), e.id).toEqual(a1);
      expect(kindOf(e).answer(a1)).toBeDefined();
      expect(variantParams(e, {})).toBe(e.params);
    }
    const differing = loadBank().filter((e) => JSON.stringify(variantParams(e, { student: 'ada' })) !== JSON.stringify(variantParams(e, { student: 'bob' })));
    expect(differing.length).toBeGreaterThan(loadBank().length * 0.9);
  });

  it('reads answers the way students write them', () => {
    expect(parseAnswer('32x32x10')).toEqual([32, 32, 10]);
    expect(parseAnswer('32 × 32')).toEqual([32, 32]);
    expect(parseAnswer('138,344,128')).toBe(138344128);
    expect(parseAnswer('0, 2')).toEqual([0, 2]);
    expect(parseAnswer('75%')).toBe(75);
    expect(parseAnswer("doesn't fit")).toBe('none');
    expect(parseAnswer('[[1, 2], [3, 4]]')).toEqual([[1, 2], [3, 4]]);
    expect(() => parseAnswer('five')).toThrow(/could not read the answer/);
  });

  it('4 significant digits for reals, exact integers', () => {
    expect(sameAnswer(2.2913, 2.29128784747792, false)).toBe(true);
    expect(sameAnswer(2.291, 2.29128784747792, false)).toBe(true);
    expect(sameAnswer(2.29, 2.29128784747792, false)).toBe(false);
    expect(sameAnswer(761, 760, true)).toBe(false);
  });
});

describe('shape and size helpers', () => {
  it('agree with the formulas', () => {
    expect(convOutput(227, 11, 4)).toBe(55);
    expect(poolOutput(55, 3, 2)).toBe(27);
    expect(transposedOutput(3, 3, 2)).toBe(7);
    expect(convParams(5, 3, 10)).toBe(760);
    expect(linearParams(7 * 7 * 512, 4096, false)).toBe(102760448);
    expect(receptiveField([{ k: 3 }, { k: 3 }, { k: 3 }]).size).toBe(7);
  });
});

describe('model summaries', () => {
  const load = (f: string) => parseModel(JSON.parse(readFileSync(join(ROOT, 'exercises', 'models', f), 'utf8')));
  it('VGG-16 reproduces the course table', () => {
    const { rows, total } = summarize(load('vgg16.json'));
    expect(total.weights).toBe(138344128);
    expect(total.weights + total.biases).toBe(138357544);
    expect(total.activations).toBe(15237608);
    expect(rows.find((r) => r.name === 'fc1')!.weights).toBe(102760448);
    expect(rows.find((r) => r.name === 'conv1')!.activations).toBe(224 * 224 * 64);
    expect(rows.find((r) => r.name === 'maxpool5')!.shape).toEqual([7, 7, 512]);
  });
  it('AlexNet conv1 and LeNet-5 match the walk-throughs', () => {
    const a = summarize(load('alexnet.json')).rows.find((r) => r.name === 'conv1')!;
    expect([a.shape, a.weights + a.biases, a.activations]).toEqual([[55, 55, 96], 34944, 290400]);
    const l = summarize(load('lenet5.json')).rows;
    expect(l.map((r) => r.shape.join('×'))).toEqual(['32×32×1', '28×28×6', '28×28×6', '14×14×6', '10×10×16', '10×10×16', '5×5×16', '400', '120', '120', '84', '84', '10']);
  });
  it('rejects a malformed model, naming the field', () => {
    expect(() => parseModel({ name: 'x', input: [32, 32, 3], layers: [{ type: 'conv', kernel: 3 }] })).toThrow(/\/layers\/0/);
  });
});

describe('the CLI', () => {
  it('exercise show / check / solve, with exit status 0 right and 1 wrong', () => {
    expect(cli(['exercise', 'show', 'by-hand/sobel']).stdout).toContain('[[1, 2, 3], [4, 5, 6], [7, 8, 9]]');
    const right = cli(['exercise', 'check', 'params/10f5-total', '--answer', '760']);
    expect([right.status, right.stdout]).toEqual([0, 'right: params/10f5-total\n']);
    const wrong = cli(['exercise', 'check', 'params/10f5-total', '--answer', '750']);
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toContain('Looks like you forgot the biases.');
    expect(cli(['exercise', 'solve', 'output-size/32-repeated-5x5']).stdout).toContain('32 → 28 → 24');
    const missing = cli(['exercise', 'show', 'output-size/nope']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no exercise');
  });

  it('a student variant is checked against its own numbers', () => {
    const e = getExercise('params/10f5-total');
    const want = kindOf(e).answer(variantParams(e, { student: 'ada' }));
    expect(cli(['exercise', 'check', 'params/10f5-total', '--student', 'ada', '--answer', String(want)]).status).toBe(0);
  });

  it('summary prints the VGG-16 table', () => {
    const r = cli(['summary', 'exercises/models/vgg16.json']);
    expect(r.stdout).toContain('parameters: 138,344,128 weights, 138,357,544 with biases; activations: 15,237,608 values');
  });

  it('grade grades an answer sheet (per-student variants) in every results format', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sheet-'));
    const e = getExercise('params/10f5-total');
    const adaAnswer = kindOf(e).answer(variantParams(e, { student: 'ada' }));
    const sheet = { student: 'ada', variant: 'student', answers: { 'params/10f5-total': adaAnswer, 'padding/same-f5': 999, 'by-hand/sobel': 'none' } };
    writeFileSync(join(dir, 'ada.json'), JSON.stringify(sheet));
    const r = cli(['grade', join(dir, 'ada.json'), '--format', 'json']);
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout);
    expect([res.score, res.maxScore]).toEqual([1, 3]);
    expect(gradeSheet({ answers: { 'by-hand/batch-norm-variance': 6 } }, { file: 'x' }).tests[0].cases[0].message).toContain('unbiased variance');
    expect(cli(['grade', join(dir, 'ada.json'), '--format', 'gradescope']).stdout).toContain('"max_score": 1');
  });
});
