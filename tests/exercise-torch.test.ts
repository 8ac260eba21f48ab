/**
 * PyTorch as the independent arbiter of the exercises: every bundled model built as torch modules
 * (shapes, parameters, conv MACs, layer by layer; torchvision's own ResNet-18, VGG-16), and the
 * answers of the notes' numbers and of many students' variants, computed by the torch op the
 * exercise is about. Runs /usr/bin/python3 (Debian's python3-torch); skips loudly without it.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kindOf, loadBank, variantParams, type Exercise } from '../src/exercises/bank.js';
import { parseModel, summarize } from '../src/exercises/summary.js';
import { modelOf, type P } from '../src/exercises/kinds/index.js';

const ROOT = join(__dirname, '..');
const PY = '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;
if (!hasTorch) console.warn(`\n*** SKIPPED: ${PY} cannot import torch and torchvision (Debian: apt-get install python3-torch python3-torchvision); the exercises are not checked against PyTorch ***\n`);

const VARIANTS = [{}, ...Array.from({ length: 30 }, (_, i) => ({ student: `s${i}` }))];
const pair = (x: number | number[]) => (Array.isArray(x) ? x : [x, x]);

/** The torch query that answers an exercise, and how to read the library's answer for comparison. */
function query(e: Exercise, p: P): { q: P; ours: unknown; theirs: (r: any) => unknown } | undefined {
  const ours = kindOf(e).answer(p);
  switch (e.kind) {
    case 'convOutput': {
      if (p.repeat > 1 || p.requireFit) return undefined;
      const out = (Array.isArray(ours) ? ours : [ours]) as number[];
      return { q: { op: 'conv_size', in: pair(p.in), k: p.k, stride: p.stride, pad: [p.pad, p.padEnd ?? p.pad], dilation: p.dilation ?? 1 }, ours: Array.isArray(p.in) || p.filters ? out.slice(0, 2) : [out[0], out[0]], theirs: (r) => r };
    }
    case 'convLayer':
      if (p.quantity === 'parameters' && !p.chain) return { q: { op: 'conv_params', cin: p.cin, filters: p.filters, k: p.k }, ours, theirs: (r) => r };
      if (p.quantity === 'outputSize') return { q: { op: 'conv_size', in: pair(p.in), k: p.k, stride: p.stride, pad: [p.pad, p.pad], dilation: 1 }, ours, theirs: (r) => r };
      return undefined;
    case 'transposedOutput':
      return { q: { op: 'tconv_size', in: p.in, k: p.k, stride: p.stride, pad: p.pad, outputPadding: p.outputPadding ?? 0 }, ours: [ours, ours], theirs: (r) => r };
    case 'poolOutput':
      return p.quantity === 'size' ? { q: { op: 'pool_size', in: p.in, k: p.k, stride: p.stride }, ours: [ours, ours], theirs: (r) => r } : undefined;
    case 'batchNormByHand':
      return { q: { op: 'bn', maps: p.maps, gamma: p.gamma, beta: p.beta, eps: p.eps }, ours, theirs: (r) => (p.quantity === 'y' ? r.y : p.quantity === 'mean' ? r.mean : r.var) };
    case 'softmaxCrossEntropy':
      return { q: { op: 'softmax', scores: p.scores, target: p.target }, ours, theirs: (r) => (p.quantity === 'loss' ? r.loss : r.p) };
    case 'convolveByHand':
      return { q: { op: 'convolve', a: p.a, b: p.b, mode: p.mode ?? 'full' }, ours, theirs: (r) => r };
    case 'convolutionEntry':
      return { q: { op: 'convolve', a: p.a, b: p.b, mode: 'full' }, ours, theirs: (r) => (p.quantity === 'size' ? [r.length, r[0].length] : r[p.x - 1][p.y - 1]) };
    case 'roiAlignSample':
      return { q: { op: 'roi_align', map: p.map, x: p.x, y: p.y }, ours, theirs: (r) => r };
    case 'roiPoolByHand':
      return { q: { op: 'roi_pool', map: p.map, box: p.box, out: p.out }, ours, theirs: (r) => r };
    case 'nmsByHand':
      return { q: { op: 'nms', boxes: p.boxes, scores: p.scores, threshold: p.threshold }, ours, theirs: (r) => r };
    case 'iouByHand':
      return { q: { op: 'iou', box1: p.box1, box2: p.box2 }, ours, theirs: (r) => r };
    case 'transposedConv1d':
      return { q: { op: 'tconv1d', input: p.input, kernel: p.kernel, stride: p.stride, outputPadding: p.outputPadding ?? 0 }, ours, theirs: (r) => r };
    case 'convAsMatrix':
      if (p.quantity === 'matrix') return { q: { op: 'conv_matrix', kernel: p.kernel, n: p.n, stride: p.stride, pad: p.pad }, ours, theirs: (r) => r };
      return { q: { op: 'tconv1d', input: p.a, kernel: p.kernel, stride: p.stride, pad: p.pad, outputPadding: p.n - ((p.a.length - 1) * p.stride - 2 * p.pad + p.kernel.length) }, ours, theirs: (r) => r };
    case 'linearScores':
      return { q: { op: 'linear', W: p.W, x: p.x, b: p.b }, ours, theirs: (r) => r };
    case 'poolByHand':
      return { q: { op: 'pool', map: p.map, k: p.k, stride: p.stride, type: p.type }, ours, theirs: (r) => r };
    case 'unpoolByHand':
      return { q: { op: 'unpool', map: p.map, mode: p.mode, positions: p.positions }, ours, theirs: (r) => r };
    default:
      return undefined;
  }
}

/** Equal to float64 rounding: the library is exact, torch rounds once per operation. */
function close(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => close(x, b[i]));
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  return a === b;
}

describe.runIf(hasTorch)('against PyTorch', () => {
  const models = Object.fromEntries(readdirSync(join(ROOT, 'exercises', 'models')).map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(ROOT, 'exercises', 'models', f), 'utf8'))]));
  // the variants' models too (other inputs and widths), as the exercises build them
  const modelExercises = loadBank().filter((e) => e.kind === 'modelTotals');
  for (const e of modelExercises)
    for (const v of VARIANTS.slice(0, 6)) {
      const m = modelOf(variantParams(e, v));
      models[`${e.id} ${JSON.stringify(v)}`] = m;
    }
  const cases: { id: string; v: unknown; ours: unknown; theirs: (r: unknown) => unknown }[] = [];
  const queries: P[] = [];
  const ISSUE_SEEDS = [['output-size/dilated', '62'], ['output-size/7x9-k3-s2', '7'], ['output-size/transposed-4x4-s2', '218']];
  for (const e of loadBank())
    for (const v of [...VARIANTS, ...ISSUE_SEEDS.filter(([id]) => id === e.id).map(([, seed]) => ({ seed }))]) {
      const c = query(e, variantParams(e, v));
      if (!c) continue;
      cases.push({ id: e.id, v, ours: c.ours, theirs: c.theirs });
      queries.push(c.q);
    }
  let result: { models: Record<string, { rows: { name: string; shape: number[]; params: number; macs: number }[]; params: number }>; torchvision: Record<string, { params: number; modules: Record<string, number> }>; answers: unknown[] };
  const torch = () => {
    if (!result) {
      const r = spawnSync(PY, [join(ROOT, 'tests', 'helpers', 'torch-exercises.py')], { input: JSON.stringify({ models, queries }), encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`torch-exercises.py failed: ${r.stderr}`);
      result = JSON.parse(r.stdout);
    }
    return result;
  };

  it('every model, layer by layer: output shapes, parameters and conv MACs (the variants’ too)', () => {
    for (const [name, json] of Object.entries(models)) {
      const ours = summarize(parseModel(json)).rows.slice(1);
      const theirs = torch().models[name].rows;
      expect(theirs.map((r) => r.name), name).toEqual(ours.map((r) => r.name));
      ours.forEach((r, i) => {
        expect(r.shape, `${name} ${r.name}`).toEqual(theirs[i].shape);
        expect(r.weights + r.biases, `${name} ${r.name}`).toBe(theirs[i].params);
        if (theirs[i].macs) expect(r.macs, `${name} ${r.name}`).toBe(theirs[i].macs);
      });
    }
  }, 120000);

  it('torchvision’s ResNet-18 (11,689,512) and VGG-16 (138,357,544), module by module', () => {
    const tv = torch().torchvision;
    const total = (f: string) => {
      const t = summarize(parseModel(models[f])).total;
      return t.weights + t.biases;
    };
    expect(tv.resnet18.params).toBe(11689512);
    expect(total('resnet18')).toBe(tv.resnet18.params);
    expect(total('vgg16')).toBe(tv.vgg16.params);
    const rows = summarize(parseModel(models.resnet18)).rows;
    for (const [name, n] of Object.entries(tv.resnet18.modules)) {
      const row = rows.find((r) => r.name === name);
      expect(row, name).toBeDefined();
      expect(row!.weights + row!.biases, name).toBe(n);
    }
    // torchvision's alexnet is another network (64 filters in conv1, 61,100,840 parameters): not the notes' "60M"
    expect(tv.alexnet.params).toBe(61100840);
    expect(total('alexnet-grouped')).toBe(60965224);
  }, 120000);

  it(`the answers of the notes’ numbers and ${VARIANTS.length - 1} students’ variants`, () => {
    expect(cases.length).toBeGreaterThan(1000);
    expect(new Set(cases.map((c) => c.id)).size).toBeGreaterThanOrEqual(40);
    const answers = torch().answers;
    cases.forEach((c, i) => {
      const theirs = c.theirs(answers[i]);
      expect(typeof theirs === 'string' && theirs.startsWith('error') ? theirs : 'accepted', `${c.id} ${JSON.stringify(c.v)}`).toBe('accepted');
      expect(close(c.ours, theirs), `${c.id} ${JSON.stringify(c.v)}: ours ${JSON.stringify(c.ours)}, torch ${JSON.stringify(theirs)}`).toBe(true);
    });
  }, 120000);

  it('the variants the issue found impossible are ones PyTorch accepts', () => {
    const answers = torch().answers;
    for (const [id, seed] of ISSUE_SEEDS) {
      const i = cases.findIndex((c) => c.id === id && JSON.stringify(c.v) === JSON.stringify({ seed }));
      expect(i, `${id} seed ${seed}`).toBeGreaterThanOrEqual(0);
      expect(close(cases[i].ours, cases[i].theirs(answers[i])), `${id} seed ${seed}: ${JSON.stringify(answers[i])}`).toBe(true);
    }
  });
});
