import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gradeAnswerSheet } from '../src/grading/sheets.js';
import { parseAssignment } from '../src/grading/assignment.js';
import { checkAnswer, feedbackLines, getExercise, groupOf, kindOf, loadBank, parseAnswer, readAnswerFor, sameAnswer, solutionText, titleText, questionText, variantParams, type VariantChoice } from '../src/exercises/bank.js';
import { readAnswer } from '../src/exercises/answers.js';
import { convOutput, convParams, receptiveField, transposedOutput, poolOutput, linearParams } from '../src/exercises/sizes.js';
import { cli as runCli } from './helpers/cli.js';

const ROOT = join(__dirname, '..');
const cli = (args: string[]) => runCli(args, { cwd: ROOT });
const answer = (id: string, v: VariantChoice = {}) => kindOf(getExercise(id)).answer(variantParams(getExercise(id), v));
const check = (id: string, text: string, v: VariantChoice = {}) => {
  const e = getExercise(id);
  const r = readAnswerFor(e, v, text);
  return checkAnswer(e, v, r.value, r);
};

const ln = Math.log;
const e = [3.2, 5.1, -1.7].map(Math.exp);
const eSum = e[0] + e[1] + e[2];

/**
 * The numbers of the notes (shared/spec/exercises.md) and hand arithmetic, exercise by exercise:
 * every exercise of the bank, its answer computed by the library and checked against these.
 */
const EXPECTED: Record<string, unknown> = {
  'output-size/7x7-k3-s1': (7 - 3) / 1 + 1,
  'output-size/7x7-k3-s2': (7 - 3) / 2 + 1,
  'output-size/7x7-k3-s3': 'none', // (7 − 3)/3 + 1 = 2.33
  'output-size/7x7-k3-pad1': (7 + 2 - 3) / 1 + 1,
  'padding/same-f3': 1,
  'padding/same-f5': 2,
  'padding/same-f7': 3,
  'output-size/32x32x3-10f5-p2': [32, 32, 10],
  'output-size/32-repeated-5x5': 24,
  'output-size/w5-f3-p1-s1': 5,
  'output-size/w5-f3-p1-s2': 3,
  'output-size/demo-5x5x3-k2': [3, 3, 2],
  'output-size/7x9-k3-s2': [3, 4],
  // deck 003: (J + 1 − M) × (K + 1 − N)
  'output-size/j6-k7': [6 + 1 - 3, 7 + 1 - 3],
  // deck 003: 1 + L·M·N
  'params/free-parameters': 1 + 3 * 3 * 3,
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
  // conv1 (11·11·3 + 1)·96, the pooling adds none
  'pool/parameters': (11 * 11 * 3 + 1) * 96,
  'pool/2x2-discarded': 75,
  'volume/inception-concat': [28, 28, 128 + 192 + 96 + 256],
  'inception/naive-output-values': 28 * 28 * 672,
  // deck 001: 28x28x128x1x1x256 + 28x28x192x3x3x256 + 28x28x96x5x5x256 = 854M
  'inception/naive-ops': 28 * 28 * (128 * 256 + 192 * 9 * 256 + 96 * 25 * 256),
  // the six terms deck 001 lists (it totals them as 358M)
  'inception/reduced-ops': 28 * 28 * (64 * 256 + 64 * 256 + 128 * 256 + 192 * 9 * 64 + 96 * 25 * 64 + 64 * 256),
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
  // conv1..5 (conv2, 4, 5 seeing all channels) + fc6..8
  'alexnet/parameters': (11 * 11 * 3 + 1) * 96 + (5 * 5 * 96 + 1) * 256 + (3 * 3 * 256 + 1) * 384 + (3 * 3 * 384 + 1) * 384 + (3 * 3 * 384 + 1) * 256 + (6 * 6 * 256 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000,
  // the same with conv2, conv4, conv5 in two groups (5×5×48, 3×3×192, 3×3×192 as deck 002 lists them)
  'alexnet/parameters-grouped': (11 * 11 * 3 + 1) * 96 + (5 * 5 * 48 + 1) * 256 + (3 * 3 * 256 + 1) * 384 + (3 * 3 * 192 + 1) * 384 + (3 * 3 * 192 + 1) * 256 + (6 * 6 * 256 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000,
  'stack/3x3x3-receptive-field': 7,
  'stack/3x3x3-weights': 27,
  'stack/7x7-weights': 49,
  'fc-as-conv/shape': [1, 1, 4096],
  'fc-as-conv/weights': 102760448,
  'volume/1x1-conv': [56, 56, 32],
  'vgg16/weights': 138344128,
  'vgg16/parameters': 138357544,
  'vgg16/activations': 15237608,
  'vgg16/activation-megabytes': (15237608 * 4) / 1e6,
  'vgg16/fc1-weights': 102760448,
  'by-hand/vector-convolution': [0, 1, 2, -1, -2],
  'by-hand/matrix-convolution-size': [3 + 4 - 1, 3 + 5 - 1],
  // c33 = a11b33 + a12b32 + a13b31 + a21b23 + a22b22 + a23b21 + a31b13 + a32b12 + a33b11 (deck 004)
  'by-hand/matrix-convolution-entry': 1 * 13 + 0 * 12 + 2 * 11 + -1 * 8 + 1 * 7 + 0 * 6 + 0 * 3 + 3 * 2 + 1 * 1,
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
  // kernel [1, 2, 3], stride 2, padding 1 on 4 inputs: output 0 reads (pad, a0, a1), output 1 reads (a1, a2, a3)
  'by-hand/conv-as-matrix': [[2, 3, 0, 0], [0, 1, 2, 3]],
  // Xᵀ·[1, −1]
  'by-hand/transposed-as-transpose': [2 * 1, 3 * 1 + 1 * -1, 2 * -1, 3 * -1],
  'by-hand/roi-pool': [[8, 9], [8, 6]],
  // f(1.25, 0.5): columns 1, 2 and rows 0, 1 of [[1, 3, 2, 0], [5, 7, 4, 8], …]
  'by-hand/roi-align-sample': 3 * 0.75 * 0.5 + 2 * 0.25 * 0.5 + 7 * 0.75 * 0.5 + 4 * 0.25 * 0.5,
  // deck 002's W, x, b (the deck prints [−337.3, −38.6, 460.30])
  'linear/classifier-scores': [0.1 * 1 - 0.25 * 73 + 0.1 * 227 + 2.5 * 82 - 2, 0.5 * 73 + 0.2 * 227 - 0.6 * 82 + 1.7, 2 * 1 + 0.8 * 73 + 1.8 * 227 - 0.1 * 82 - 0.5],
  'by-hand/iou': 6 / 26,
  // #0 keeps; #4 and #1 overlap it at 12/20 = 0.6; #3 keeps; #2 overlaps #3 at exactly 6/12 = 0.5, not above it
  'by-hand/nms': [0, 3, 2],
  // the CS231n cat scores
  'by-hand/softmax': e.map((x) => x / eSum),
  'by-hand/cross-entropy': -ln(e[0] / eSum),
  'receptive-field/strided': 19, // r: 1 → 3 → 5 (j = 2) → 9 → 11 (j = 4) → 19
  'detector/rpn-objectness': [9, 20, 15],
  'detector/rpn-boxes': [36, 20, 15],
  'detector/yolo': [7, 7, 5 * 2 + 20],
};

describe('the exercise bank', () => {
  it('validates against its schema; every exercise has a known kind', async () => {
    expect(loadBank().length).toBeGreaterThanOrEqual(85);
    for (const x of loadBank()) expect(kindOf(x), x.id).toBeDefined();
  });

  for (const [id, want] of Object.entries(EXPECTED)) {
    it(`${id} = ${JSON.stringify(want)} (computed, checked against the notes and hand arithmetic)`, async () => {
      const x = getExercise(id);
      expect(sameAnswer(answer(id), want as never, kindOf(x).exact), JSON.stringify(answer(id))).toBe(true);
      expect(checkAnswer(x, {}, want as never).correct).toBe(true);
    });
  }

  it('every exercise of the bank is covered above', async () => {
    expect(loadBank().map((x) => x.id).filter((id) => !(id in EXPECTED))).toEqual([]);
  });

  it('the notes’ exercises that were missing are there (issue #14)', async () => {
    for (const id of ['by-hand/roi-align-sample', 'by-hand/matrix-convolution-entry', 'inception/naive-ops', 'inception/reduced-ops', 'output-size/j6-k7', 'params/free-parameters', 'output-size/7x7-k3-pad1', 'linear/classifier-scores', 'by-hand/conv-as-matrix', 'by-hand/transposed-as-transpose'])
      expect(getExercise(id).id).toBe(id);
  });
});

describe('the notes’ slips, explained when a student gives the notes’ value', () => {
  it.each([
    ['output-size/10x10-f5-p1', '10x10', 'padding 2'],
    ['vgg16/activations', '24000000', '15,237,608'],
    ['vgg16/activations', '24M', '96 MB, not the 93 MB'],
    ['vgg16/activation-megabytes', '93', '24M × 4 bytes is 96 MB'],
    ['vgg16/activation-megabytes', '93 MB', '96 MB'],
    ['output-size/alexnet-conv1-224', '55.25x55.25x96', 'round down'],
    ['output-size/transposed-2x2-s2', '4', 'output padding 1'],
    ['inception/reduced-ops', '358M', '271,351,808'],
    ['inception/naive-output-values', '529k', '526,848'],
    ['alexnet/parameters', '60M', '60,965,224'],
    ['alexnet/parameters', '60,000,000', '62,378,344'],
    ['linear/classifier-scores', '[-337.3, -38.6, 460.30]', '207.55'],
  ])('%s: %s is the notes’ value, explained (%s)', (id, text, words) => {
    const r = check(id, text);
    expect(r.correct).toBe(false);
    expect(r.erratum).toContain(words);
  });

  it('the notes’ values match what the decks print', async () => {
    // 24M × 4 B = 96 MB; 28·28·672 = 526,848 (not 529k); the listed reduced terms add to 271M (not 358M)
    expect(24e6 * 4).toBe(96e6);
    expect(28 * 28 * 672).toBe(526848);
    expect(answer('inception/reduced-ops')).toBe(271351808);
  });

  it('deck 001’s batch-norm formula γ(x − μ)/(σ + β) is named when a student uses it', async () => {
    const v = { student: 'ada' };
    const p = variantParams(getExercise('by-hand/batch-norm-y'), v);
    expect(p.beta).not.toBe(0);
    const xs: number[] = p.maps.flat(2);
    const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length);
    const slip = p.maps.map((m: number[][]) => m.map((row) => row.map((x) => (p.gamma * (x - mu)) / (sd + p.beta))));
    const r = checkAnswer(getExercise('by-hand/batch-norm-y'), v, slip);
    expect(r.mistake).toContain('deck 001');
    expect(r.slip).toBe(true);
  });

  it('there is no false erratum: the notes give no number for the variance, so √5.25 is a mistake', async () => {
    expect(getExercise('by-hand/batch-norm-variance').erratum).toBeUndefined();
    const r = check('by-hand/batch-norm-variance', '2.2913');
    expect(r.erratum).toBeUndefined();
    expect(r.mistake).toContain('standard deviation');
  });
});

describe('likely wrong answers are diagnosed', () => {
  // per-sample statistics: sample 1 [1, 3, 2, 4] has μ = 2.5, σ² = 1.25; sample 2 [5, 7, 6, 8] μ = 6.5
  const inst = (x: number, m: number) => (1.5 * (x - m)) / Math.sqrt(1.25);
  it.each([
    ['output-size/alexnet-conv1-224', '56x56x96', 'rounded up'],
    ['output-size/7x7-k3-s3', '2.33', 'did not round down'],
    ['output-size/7x7-k3-s3', '2', 'rounded down'],
    ['by-hand/batch-norm-variance', '6', 'unbiased variance'],
    ['by-hand/batch-norm-y', JSON.stringify([[[inst(1, 2.5), inst(3, 2.5)], [inst(2, 2.5), inst(4, 2.5)]], [[inst(5, 6.5), inst(7, 6.5)], [inst(6, 6.5), inst(8, 6.5)]]]), 'instance norm'],
    // 1.5·(x − 4.5)/√6 (the unbiased variance is 6)
    ['by-hand/batch-norm-y', '[[[-2.1433, -0.9186], [-1.5309, -0.3062]], [[0.3062, 1.5309], [0.9186, 2.1433]]]', 'unbiased variance'],
    ['by-hand/sobel', '[[-24]]', '"valid"'],
    ['by-hand/sobel', '[[-1, -4, -8, -8, -3], [-4, -13, -20, -17, -6], [-6, -18, -24, -18, -6], [4, 13, 20, 17, 6], [7, 22, 32, 26, 9]]', 'full result'],
    ['by-hand/cross-entropy', String(ln(e[0] / eSum)), 'minus sign'],
    ['by-hand/cross-entropy', String(-ln(e[1] / eSum)), 'class 1'],
    ['by-hand/cross-entropy', String(-ln(e[2] / eSum)), 'class 2'],
    ['by-hand/cross-entropy', '0.8861', 'log base 10'],
    ['params/10f5-total', '750', 'forgot the biases'],
    ['params/10f5-per-filter', '26', 'forgot the input depth'],
    ['params/conv2-k16', String((5 * 5 * 3 + 1) * 16), 'previous layer'],
    ['output-size/w5-f3-p1-s1', '3', 'forgot the padding'],
    ['by-hand/vector-convolution', '[2, 1, -2, -1, 0]', 'did not flip'],
    ['by-hand/iou', String(12 / 38), '+1 pixel'],
    ['by-hand/nms', '[0, 3]', 'IoU ≥ threshold'],
    ['by-hand/nms', '0, 2, 3', 'by index'],
    ['receptive-field/strided', '10', 'ignored the strides'],
    ['output-size/dilated', '34', 'ignored the dilation'],
    ['output-size/dilated', '30', 'padded one side only'],
    ['output-size/transposed-4x4-s2', '7', 'forgot the output padding'],
    ['stack/3x3x3-receptive-field', '9', 'added the kernel sizes'],
    ['detector/yolo', '7x7x28', 'confidence'],
    ['detector/yolo', '7x7x25', 'one box per cell'],
    ['by-hand/transposed-conv-1d', '[2, 20, 3, 30, 300, 0]', 'overwrote'],
    ['pool/parameters', String(34944 + 3 * 3 * 96), 'pooling windows'],
    ['alexnet/parameters-grouped', '62378344', 'ungrouped'],
    ['vgg16/activation-megabytes', String((15237608 * 4) / 2 ** 20), 'MiB'],
    ['by-hand/roi-align-sample', '7', 'nearest cell'],
    ['by-hand/conv-as-matrix', '[[2, 1, 0, 0], [0, 3, 2, 1]]', 'flipped the kernel'],
    ['by-hand/transposed-as-transpose', '[2, 2, -2]', 'output padding'],
    ['by-hand/matrix-convolution-size', '7x8', '− 1'],
    ['linear/classifier-scores', '[209.55, 32.7, 460.8]', 'forgot to add b'],
  ])('%s: %s is diagnosed (%s)', (id, text, label) => {
    const r = check(id, text);
    expect(r.correct).toBe(false);
    expect(r.mistake).toContain(label);
  });

  it('forgetting β is told apart in a variant (β ≠ 0)', async () => {
    const v = { student: 'bob' };
    const x = getExercise('by-hand/batch-norm-y');
    const p = variantParams(x, v);
    const noBeta = (answer(x.id, v) as number[][][]).map((m) => m.map((row) => row.map((y) => y - p.beta)));
    expect(checkAnswer(x, v, noBeta).mistake).toContain('forgot to add β');
  });

  it('every label reads after "Looks like you": a verb in the past tense', async () => {
    const IRREGULAR = ['took', 'gave', 'left', 'put', 'kept', 'forgot', 'did', 'made', 'read', 'thought', 'wrote', 'overwrote'];
    for (const x of loadBank())
      for (const v of [{}, { student: 'ada' }])
        for (const m of kindOf(x).mistakes(variantParams(x, v))) {
          const first = m.label.split(' ')[0];
          expect(first.endsWith('ed') || IRREGULAR.includes(first), `${x.id}: "${m.label}"`).toBe(true);
        }
  });
});

describe('feedback a student can act on', () => {
  it.each([
    ['output-size/10x10-f5-p1', '(8,8)'],
    ['output-size/10x10-f5-p1', '8 × 8'],
    ['alexnet/conv1-parameters', '34 944'],
    ['alexnet/conv1-parameters', '34,944'],
    ['vgg16/parameters', '138,357,544'],
    ['output-size/7x7-k3-s1', '5x5'],
    ['pool/2x2-discarded', '0.75'],
    ['pool/2x2-discarded', '75%'],
    ['output-size/7x7-k3-s3', "doesn't fit"],
    ['by-hand/sobel', '[[−13, −20, −17], [−18, −24, −18], [13, 20, 17]]'],
    ['vgg16/activation-megabytes', '60.95 MB'],
    ['by-hand/nms', '0, 3, 2'],
  ])('%s: %s is read as the student meant it', (id, text) => {
    expect(check(id, text).correct).toBe(true);
  });

  it('a reading that is not literal is said', async () => {
    expect(check('output-size/7x7-k3-s1', '5x5').notes[0]).toContain('read 5x5 as 5: the question asks for one number');
    expect(check('pool/2x2-discarded', '0.75').notes[0]).toContain('read 0.75 as 75 %');
  });

  it('35K: "give the exact count"; a wrong shape or wrong cells are named', async () => {
    expect(check('alexnet/conv1-parameters', '35K').advice).toContain('give the exact count');
    expect(check('alexnet/conv1-parameters', '35000').advice).toContain('rounded to 2 significant digits');
    expect(check('vgg16/parameters', '138M').advice).toContain('give the exact count');
    expect(check('inception/naive-ops', '854M').advice).toContain('give the exact count');
    expect(check('output-size/7x7-k3-s1', '5x6').advice).toContain('asks for one number');
    expect(check('by-hand/sobel', '[[1, 2], [3, 4]]').advice).toContain('the shape is wrong: you gave 2×2 values');
    expect(check('by-hand/sobel', '[[-13, -20, -17], [-18, -24, -18], [13, 20, 18]]').advice).toMatch(/^1 of 9 cells wrong \(row, column from 1\): \(3, 3\); the others are right/);
    expect(check('by-hand/vector-convolution', '[0, 1, 2, -1, -3]').advice).toMatch(/^1 of 5 entries wrong \(from 1\): 5;/);
  });

  it('a wrong answer is never a bare "wrong", in every exercise and variant', async () => {
    for (const x of loadBank())
      for (const v of [{}, { student: 'ada' }, { seed: '7' }]) {
        const want = kindOf(x).answer(variantParams(x, v));
        const off = typeof want === 'number' ? want + 1000.5 : typeof want === 'string' ? 12345 : [987654];
        const r = checkAnswer(x, v, off as never);
        expect(r.correct, x.id).toBe(false);
        expect(feedbackLines(r).join(' ').length, x.id).toBeGreaterThan(10);
      }
  });

  it('every worked solution ends with an "Answer:" line that check accepts (the notes’ numbers and variants)', async () => {
    for (const x of loadBank())
      for (const v of [{}, { student: 'ada' }, { seed: '3' }, { seed: '99' }]) {
        const last = solutionText(x, v).at(-1)!;
        expect(last, x.id).toMatch(/^Answer: /);
        const r = readAnswerFor(x, v, last.slice('Answer: '.length));
        expect(checkAnswer(x, v, r.value, r).correct, `${x.id} ${JSON.stringify(v)}: ${last}`).toBe(true);
      }
  });

  it('the softmax solution prints probabilities check accepts, and −ln p as arithmetic gives it', async () => {
    const steps = solutionText(getExercise('by-hand/cross-entropy'));
    const probs = JSON.parse(steps.find((s) => s.startsWith('p = '))!.split(' = ').at(-1)!.replace(/\.$/, '')) as number[];
    expect(checkAnswer(getExercise('by-hand/softmax'), {}, probs).correct).toBe(true);
    const [, p, L] = /−ln ([\d.]+) = ([\d.]+)\.$/.exec(steps.find((s) => s.includes('−ln'))!)!;
    expect(Math.abs(-ln(Number(p)) - Number(L))).toBeLessThan(5e-5);
  });

  it('the arithmetic shown in every solution checks out at the precision shown', async () => {
    let checked = 0;
    for (const x of loadBank())
      for (const v of [{}, { student: 'ada' }])
        for (const line of solutionText(x, v)) {
          for (const [left, right] of equations(line)) {
            checked++;
            // half a unit of the last digit shown, on whichever side shows the fewest
            const decimals = Math.min(...[left, right].map((s) => Math.max(0, ...(s.match(/\d+\.(\d+)/g) ?? ['0.']).map((n) => n.split('.')[1].length))));
            const [a, b] = [evaluate(left), evaluate(right)];
            expect(Math.abs(a - b), `${x.id} ${JSON.stringify(v)}: ${left} = ${right} in "${line}"`).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-9 * Math.abs(b));
          }
        }
    expect(checked).toBeGreaterThan(250);
    // the checker sees through words and catches a wrong sum
    expect(equations('Output: ⌊(32 + 2·2 − 5)/1⌋ + 1 = 32, with k_eff = d·(k − 1) + 1 = 5.')).toEqual([['⌊(32 + 2·2 − 5)/1⌋ + 1', '32']]);
    expect(evaluate('−ln 0.13')).toBeCloseTo(2.0402, 4);
  });

  it('the solve hint names the student’s own variant', { timeout: 30000 }, async () => {
    const r = await cli(['exercise', 'check', 'params/10f5-total', '--student', 'ada', '--answer', '1']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('`cnn-oracle exercise solve params/10f5-total --student ada` works it out');
    expect((await cli(['exercise', 'check', 'params/10f5-total', '--seed', '5', '--answer', '1'])).stdout).toContain('solve params/10f5-total --seed 5`');
  });

  it('pool/2x2-discarded -a 50 says what went wrong in a sentence', { timeout: 30000 }, async () => {
    expect((await cli(['exercise', 'check', 'pool/2x2-discarded', '-a', '50'])).stdout).toContain('Looks like you divided the number of values by the window side (both sides shrink: by its square).');
  });
});

describe('one variant per question; titles show the variant’s numbers', () => {
  it('the parts of a question share their numbers (what the notes’ parts share, the variants share)', async () => {
    const groups = [...new Set(loadBank().filter((x) => x.group).map((x) => x.group!))];
    expect(groups.length).toBeGreaterThanOrEqual(15);
    for (const g of groups) {
      const members = groupOf(loadBank().find((x) => x.group === g)!);
      const keys = Object.keys(members[0].params).filter((k) => members.every((m) => k in m.params && JSON.stringify(m.params[k]) === JSON.stringify(members[0].params[k])));
      for (const student of ['ada', 'bob', 'eve', 'zoe']) {
        const ps = members.map((m) => variantParams(m, { student }));
        for (const k of keys) expect(new Set(ps.map((p) => JSON.stringify(p[k]))).size, `${g} ${student} ${k}`).toBe(1);
      }
    }
    // the VGG-16 parts use one input for one student, and the LeNet parts one layer
    const vgg = groupOf(getExercise('vgg16/weights')).map((m) => variantParams(m, { student: 'ada' }).input);
    expect(new Set(vgg.map(String)).size).toBe(1);
  });

  it('every number in a title is in its question, for the notes’ numbers and for variants', async () => {
    for (const x of loadBank())
      for (const v of [{}, { student: 'ada' }, { seed: '11' }]) {
        const q = questionText(x, v);
        const number = /(?<![A-Za-z_\d.])\d+(\.\d+)?/g;
        const nums = new Set(q.match(number));
        for (const n of titleText(x, v).match(number) ?? []) expect(nums.has(n), `${x.id} ${JSON.stringify(v)}: "${titleText(x, v)}" vs "${q}"`).toBe(true);
      }
  });
});

describe('each exercise names the deck it comes from', () => {
  const NOTES = '/work/shared/course-notes';
  const have = existsSync(NOTES);
  if (!have) console.warn(`\n*** SKIPPED: the course notes are not at ${NOTES}; the sources of the exercises are not checked ***\n`);
  it.runIf(have)('the evidence of each exercise is in the deck its source names', () => {
    const norm = (s: string) => s.replace(/\\/g, '').replace(/\*\*/g, '').replace(/\s+/g, ' ');
    const decks = Object.fromEntries(readdirSync(NOTES).map((f) => [f.slice(0, 3), norm(readFileSync(join(NOTES, f), 'utf8'))]));
    for (const x of loadBank()) {
      const deck = /^deck (\d{3})/.exec(x.source)?.[1];
      if (!deck) {
        expect(x.evidence, x.id).toBeUndefined();
        continue;
      }
      expect(x.evidence, x.id).toBeDefined();
      expect(decks[deck].includes(norm(x.evidence!)), `${x.id}: "${x.evidence}" in deck ${deck}`).toBe(true);
    }
  });
  it('only the exercises the decks do not pose say so', async () => {
    expect(loadBank().filter((x) => x.source.startsWith('not in the decks')).map((x) => x.id)).toEqual(['output-size/dilated', 'by-hand/iou']);
  });
});

describe('reading answers', () => {
  const scalar = { exact: true, scalar: true };
  const list = { exact: true, scalar: false };
  it('reads what students write', async () => {
    expect(readAnswer('32x32x10', list).value).toEqual([32, 32, 10]);
    expect(readAnswer('32 × 32', list).value).toEqual([32, 32]);
    expect(readAnswer('55.25x55.25x96', list).value).toEqual([55.25, 55.25, 96]);
    expect(readAnswer('(8, 8)', list).value).toEqual([8, 8]);
    expect(readAnswer('138,344,128', scalar).value).toBe(138344128);
    expect(readAnswer('34 944', scalar).value).toBe(34944);
    expect(readAnswer('1,000', list).value).toEqual([1, 0]);
    expect(readAnswer('35K', scalar)).toEqual({ value: 35000, notes: [], abbreviated: true });
    expect(readAnswer('1.2M', scalar).value).toBe(1200000);
    expect(readAnswer('0, 2', list).value).toEqual([0, 2]);
    expect(readAnswer('75%', { ...scalar, percent: true }).value).toBe(75);
    expect(readAnswer("doesn't fit", scalar).value).toBe('none');
    expect(readAnswer('[[1, 2], [3, 4]]', list).value).toEqual([[1, 2], [3, 4]]);
    expect(readAnswer('−13', scalar).value).toBe(-13);
    expect(() => readAnswer('five', scalar)).toThrow(/could not read the answer/);
    expect(parseAnswer('138,344,128')).toBe(138344128);
    expect(parseAnswer('1, 1')).toEqual([1, 1]);
  });

  it('4 significant digits for reals (and the rounding on the other side near a boundary), exact integers', async () => {
    expect(sameAnswer(2.2913, 2.29128784747792, false)).toBe(true);
    expect(sameAnswer(2.291, 2.29128784747792, false)).toBe(true);
    expect(sameAnswer(2.29, 2.29128784747792, false)).toBe(false);
    expect(sameAnswer(2.292, 2.29128784747792, false)).toBe(false);
    // 2.29150001 is a hair above the boundary between 2.291 and 2.292: both are accepted
    expect(sameAnswer(2.291, 2.29150001, false)).toBe(true);
    expect(sameAnswer(2.292, 2.29150001, false)).toBe(true);
    expect(sameAnswer(761, 760, true)).toBe(false);
    expect(sameAnswer(0, 1e-17, false)).toBe(true);
  });
});

describe('shape and size helpers', () => {
  it('agree with the formulas', async () => {
    expect(convOutput(227, 11, 4)).toBe(55);
    expect(poolOutput(55, 3, 2)).toBe(27);
    expect(transposedOutput(3, 3, 2)).toBe(7);
    expect(convParams(5, 3, 10)).toBe(760);
    expect(linearParams(7 * 7 * 512, 4096, false)).toBe(102760448);
    expect(receptiveField([{ k: 3 }, { k: 3 }, { k: 3 }]).size).toBe(7);
  });
});

describe('the CLI', { timeout: 30000 }, () => {
  it('exercise list / show / check / solve, with exit status 0 right and 1 wrong', async () => {
    const list = (await cli(['exercise', 'list'])).stdout;
    expect(list).toContain('lenet/conv1-neurons               LeNet conv1 (32×32×1, 6 filters 5×5): neurons\n');
    expect(list).not.toContain('{{');
    expect((await cli(['exercise', 'show', 'by-hand/sobel'])).stdout).toContain('[[1, 2, 3], [4, 5, 6], [7, 8, 9]]');
    const right = await cli(['exercise', 'check', 'params/10f5-total', '--answer', '760']);
    expect([right.status, right.stdout]).toEqual([0, 'right: params/10f5-total\n']);
    const wrong = await cli(['exercise', 'check', 'params/10f5-total', '--answer', '750']);
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toContain('Looks like you forgot the biases.');
    expect((await cli(['exercise', 'solve', 'output-size/32-repeated-5x5'])).stdout).toContain('32 → 28 → 24');
    const missing = await cli(['exercise', 'show', 'output-size/nope']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no exercise');
    const unread = await cli(['exercise', 'check', 'params/10f5-total', '--answer', 'lots']);
    expect([unread.status, unread.stderr]).toEqual([2, expect.stringContaining('could not read the answer "lots"')]);
  });

  it('a student variant is shown and checked with its own numbers', async () => {
    const x = getExercise('params/10f5-total');
    const p = variantParams(x, { student: 'ada' });
    const show = (await cli(['exercise', 'show', 'params/10f5-total', '--student', 'ada'])).stdout;
    expect(show).toContain(`${p.in}×${p.in}×${p.cin} input, ${p.filters} filters ${p.k}×${p.k}: parameters in all`);
    const want = (p.k * p.k * p.cin + 1) * p.filters;
    expect((await cli(['exercise', 'check', 'params/10f5-total', '--student', 'ada', '--answer', String(want)])).status).toBe(0);
  });

  it('exercise sheet prints a student’s questions', async () => {
    const r = await cli(['exercise', 'sheet', '--student', 'ada', '--exercises', 'params/10f5-total,by-hand/sobel']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`1. params/10f5-total: ${titleText(getExercise('params/10f5-total'), { student: 'ada' })}`);
    expect(r.stdout).toContain('2. by-hand/sobel');
    expect((await cli(['exercise', 'sheet', '--exercises', 'nope'])).status).toBe(2);
  });

  it('grade grades an answer sheet against the assignment’s exercises and the graded student’s variants', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sheet-'));
    const adaAnswer = answer('params/10f5-total', { student: 'ada' });
    const sheet = { student: 'bob', variant: 0, answers: { 'params/10f5-total': adaAnswer, 'padding/same-f5': 999, 'by-hand/sobel': 'none', 'not/listed': 1 } };
    writeFileSync(join(dir, 'ada.json'), JSON.stringify(sheet));
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ name: 'sheet', exercises: [{ id: 'params/10f5-total', points: 2 }, { id: 'padding/same-f5' }, { id: 'by-hand/sobel' }] }));
    const r = await cli(['grade', join(dir, 'ada.json'), '--assignment', join(dir, 'a.json'), '--student', 'ada', '--format', 'json']);
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout);
    expect([res.score, res.maxScore]).toEqual([2, 4]); // ada's own variant, whatever the sheet says it is
    expect(res.notes.join(' ')).toMatch(/"student" field is ignored.*"variant" field is ignored.*not\/listed/);
    const asBob = JSON.parse((await cli(['grade', join(dir, 'ada.json'), '--assignment', join(dir, 'a.json'), '--student', 'bob', '--format', 'json'])).stdout);
    expect(asBob.score).toBe(adaAnswer === answer('params/10f5-total', { student: 'bob' }) ? 2 : 0);
    // the notes' own numbers (exerciseVariant "published"): 6 is their example's unbiased variance
    const published = parseAssignment({ name: 'p', exercises: [{ id: 'by-hand/batch-norm-variance' }], exerciseVariant: 'published' }, dir);
    const sheetOf = (answers: Record<string, unknown>) => gradeAnswerSheet({ answers, extra: {} }, published, 'student', 'x');
    expect(sheetOf({ 'by-hand/batch-norm-variance': 6 }).tests.find((t) => t.name === 'by-hand/batch-norm-variance')!.cases[0].message).toContain('unbiased variance');
    expect((await cli(['grade', join(dir, 'ada.json'), '--assignment', join(dir, 'a.json'), '--student', 'ada', '--format', 'gradescope'])).stdout).toContain('"max_score": 2');
  });
});

/**
 * The equations of a solution line, as [left, right] pairs of plain arithmetic (numbers,
 * + − · × / ( ) ⌊ ⌋ √ ² and ln) on either side of an " = ", so the test can evaluate what the
 * solution claims. Sides that are words (μ, out, k_eff) are skipped.
 */
function equations(line: string): [string, string][] {
  const ARITH = /[\d.+\-−·×/()⌊⌋√² ]|ln|,(?=\d{3})/y;
  const segs = line.split(' = ');
  const out: [string, string][] = [];
  for (let i = 1; i < segs.length; i++) {
    const left = arithmeticTail(segs[i - 1], ARITH);
    const right = arithmeticHead(segs[i], ARITH);
    if (left && right && /\d/.test(left) && /\d/.test(right) && (hasOp(left) || hasOp(right))) out.push([left, right]);
  }
  return out;
}

const hasOp = (s: string) => /[+\-−·×/²√⌊]|ln/.test(s.replace(/^[-−]/, ''));

function arithmeticHead(s: string, re: RegExp): string {
  let end = 0;
  for (re.lastIndex = 0; re.lastIndex < s.length && re.test(s); ) end = re.lastIndex;
  let head = s.slice(0, end).trim().replace(/\.$/, '');
  while (head && !balanced(head)) head = head.slice(0, -1).trim();
  return /[A-Za-z_^]/.test(s[end] ?? '') && end > 0 && !/\s/.test(s[end - 1]) ? '' : head;
}

function arithmeticTail(s: string, re: RegExp): string {
  // the longest run of arithmetic at the end; it must be balanced on its own
  for (let start = 0; start < s.length; start++) {
    let pos = start;
    for (re.lastIndex = start; pos < s.length && re.test(s); ) pos = re.lastIndex;
    if (pos !== s.length) continue;
    const tail = s.slice(start).trim();
    return start > 0 && /[A-Za-z_^#]/.test(s[start - 1]) && !/^\s/.test(s.slice(start)) ? '' : balanced(tail) ? tail : '';
  }
  return '';
}

function balanced(s: string): boolean {
  let d = 0;
  let f = 0;
  for (const c of s) {
    if (c === '(') d++;
    if (c === ')') d--;
    if (c === '⌊') f++;
    if (c === '⌋') f--;
    if (d < 0 || f < 0) return false;
  }
  return d === 0 && f === 0 && /^[-−\d(⌊√l]/.test(s) && !/[+\-−·×/]$/.test(s);
}

function evaluate(expr: string): number {
  const js = expr
    .replace(/(\d),(\d{3})/g, '$1$2')
    .replace(/[−]/g, '-')
    .replace(/[·×]/g, '*')
    .replace(/⌊/g, 'Math.floor(')
    .replace(/⌋/g, ')')
    .replace(/√\(/g, 'Math.sqrt(')
    .replace(/√(\d+(\.\d+)?)/g, 'Math.sqrt($1)')
    .replace(/ln\s*([\d.]+)/g, 'Math.log($1)')
    .replace(/([\d)])²/g, '$1**2');
  if (!/^[\d\s.+\-*/()Mathflorsqg]+$/.test(js)) throw new Error(`not arithmetic: ${expr}`);
  return Function(`return (${js});`)() as number;
}

describe('a variant’s numbers are shared, so nobody may change them', () => {
  it('the notes’ params and every drawn variant are frozen, all the way down: a change throws instead of leaving a stale answer behind', () => {
    const e = getExercise('output-size/dilated');
    const seeded = variantParams(e, { seed: '5' });
    const stride = seeded.stride;
    /** Every object inside v (arrays of arrays too) that is not frozen. */
    const thawed = (v: unknown, at: string): string[] => (v && typeof v === 'object' ? [...(Object.isFrozen(v) ? [] : [at]), ...Object.entries(v).flatMap(([k, x]) => thawed(x, `${at}/${k}`))] : []);
    const nms = variantParams(getExercise('by-hand/nms'), { student: 'ada' });
    expect(JSON.stringify(nms)).toMatch(/\[\[/); // (boxes: arrays in an array, two levels down)
    for (const [name, p] of [['the notes', e.params], ['seed 5', seeded], ['nms for ada', nms]] as const) expect(thawed(p, name)).toEqual([]);
    expect(() => {
      (seeded as Record<string, unknown>).stride = 99;
    }).toThrow(TypeError);
    expect(seeded.stride).toBe(stride);
  });
});
