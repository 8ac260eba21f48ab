/**
 * Per-student variants over thousands of seeds for every kind: each is a well-posed question (the
 * op's shape checks accept it), checks as right against its own answer, and keeps what the notes'
 * version teaches — the same fit or misfit, overlap in IoU, a pair at the NMS threshold, every
 * mistake the notes' numbers can diagnose still diagnosed. The properties are checked here with
 * their own arithmetic, not with the bank's.
 */
import { describe, expect, it } from 'vitest';
import { checkAnswer, getExercise, kindOf, loadBank, variantParams, type Exercise } from '../src/exercises/bank.js';
import { answerKey, answerKeys, type Answer } from '../src/exercises/answers.js';
import type { P } from '../src/exercises/kinds/index.js';

const SEEDS_PER_KIND = 2000;
const kinds = [...new Set(loadBank().map((e) => e.kind))];
const byKind = (k: string) => loadBank().filter((e) => e.kind === k);

/**
 * The mistakes a student can be told about: value not the answer (to 4 digits), and the first such
 * mistake with that value (to 3). Comparisons as sameAnswer makes them (the answer's canonical keys
 * contain the value's key), with each mistake's keys computed once.
 */
function toldMistakes(e: Exercise, p: P, want: Answer = kindOf(e).answer(p)): Map<string, Answer> {
  const k = kindOf(e);
  const ms = k.mistakes(p);
  const right = new Set(answerKeys(want, k.exact, 4));
  const wrong = ms.map((m) => !right.has(answerKey(m.value, k.exact, 4)));
  const near = ms.map((m) => new Set(answerKeys(m.value, k.exact, 3)));
  const out = new Map<string, Answer>();
  ms.forEach((m, i) => {
    if (!wrong[i] || JSON.stringify(m.value).includes('null')) return;
    const key = answerKey(m.value, k.exact, 3);
    if (ms.findIndex((_, j) => wrong[j] && near[j].has(key)) === i) out.set(m.id ?? m.label, m.value);
  });
  return out;
}

/** conv output along one axis, before the floor: (in + P⁻ + P⁺ − d·(k − 1) − 1)/s + 1 */
const exactOut = (n: number, p: P) => (n + p.pad + (p.padEnd ?? p.pad) - (p.dilation ?? 1) * (p.k - 1) - 1) / p.stride + 1;
const axes = (p: P): number[] => (Array.isArray(p.in) ? p.in : [p.in]);
const box = (b: number[]) => (b[2] - b[0]) * (b[3] - b[1]);
const inter = (a: number[], b: number[]) => Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) * Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));

/** Kind-specific properties a variant must keep, checked with this file's own arithmetic: the ones it breaks. */
const KEEPS: Record<string, (p: P, base: P) => string[]> = {
  convOutput(p, base) {
    if (p.repeat > 1) return [];
    const even = (q: P) => axes(q).every((n) => Number.isInteger(exactOut(n, q)));
    return [...axes(p).filter((n) => !(exactOut(n, p) >= 1)).map((n) => `output size ${exactOut(n, p)} < 1 for in = ${n}`), ...(even(p) === even(base) ? [] : [`fits evenly: ${even(p)}, the notes' ${even(base)}`])];
  },
  transposedOutput(p, base) {
    const out = (p.in - 1) * p.stride - 2 * p.pad + p.k + (p.outputPadding ?? 0);
    return [
      ...(out >= 1 ? [] : [`output size ${out} < 1`]),
      ...((p.outputPadding ?? 0) < p.stride ? [] : [`output padding ${p.outputPadding} not below the stride ${p.stride}`]),
      ...(!!p.outputPadding === !!base.outputPadding ? [] : [`output padding ${p.outputPadding}, the notes' ${base.outputPadding}`]),
    ];
  },
  poolOutput(p, base) {
    return p.quantity !== 'size' || p.stride < p.k === base.stride < base.k ? [] : [`overlapping windows: ${p.stride < p.k}, the notes' ${base.stride < base.k}`];
  },
  iouByHand(p) {
    const i = inter(p.box1, p.box2);
    return [...(i > 0 ? [] : ['the boxes do not overlap']), ...(i < box(p.box1) + box(p.box2) - i ? [] : ['the boxes are equal'])];
  },
  nmsByHand(p) {
    // a pair whose IoU is exactly the threshold: I/U = t ⇔ I = t·U, compared in integers (t has two decimals)
    const t100 = Math.round(p.threshold * 100);
    const at = p.boxes.some((a: number[], i: number) => p.boxes.some((b: number[], j: number) => j > i && 100 * inter(a, b) === t100 * (box(a) + box(b) - inter(a, b))));
    return at ? [] : [`no pair at the threshold ${p.threshold}`];
  },
  batchNormByHand(p) {
    return Object.is(p.beta, 0) ? ['β = 0'] : [];
  },
};

describe(`variants: ${SEEDS_PER_KIND} seeds for every kind`, () => {
  for (const kind of kinds) {
    it(`${kind}: well posed, right against its own answer, keeping its point and its mistakes`, () => {
      const exs = byKind(kind);
      const per = Math.ceil(SEEDS_PER_KIND / exs.length);
      // every broken property, named with its exercise and seed, asserted once at the end
      const failures: string[] = [];
      for (const e of exs) {
        const k = kindOf(e);
        const base = [...toldMistakes(e, e.params).keys()];
        for (let s = 1; s <= per; s++) {
          const v = { seed: String(s) };
          const at = `${e.id} seed ${s}`;
          const p = variantParams(e, v);
          const want = k.answer(p);
          if (checkAnswer(e, v, want).correct !== true) failures.push(`${at}: its own answer ${JSON.stringify(want)} checks as wrong`);
          for (const broken of KEEPS[kind]?.(p, e.params) ?? []) failures.push(`${at}: ${broken}`);
          const told = toldMistakes(e, p, want);
          for (const id of base) {
            if (!told.has(id)) {
              failures.push(`${at}: "${id}" no longer diagnosable`);
              continue;
            }
            const r = checkAnswer(e, v, told.get(id)!);
            if (r.correct !== false || r.mistake === undefined) failures.push(`${at}: "${id}"'s value checks as ${r.correct ? 'right' : 'wrong with no mistake named'}`);
          }
        }
      }
      expect(failures.slice(0, 20), `${failures.length} broken properties`).toEqual([]);
    }, 120000);
  }

  it('the seeds of issue #14 that gave impossible questions now give well-posed ones', () => {
    const dilated = variantParams(getExercise('output-size/dilated'), { seed: '62' });
    expect(exactOut(dilated.in, dilated)).toBeGreaterThanOrEqual(1);
    const j7 = variantParams(getExercise('output-size/7x9-k3-s2'), { seed: '7' });
    for (const n of j7.in) expect(exactOut(n, j7)).toBeGreaterThanOrEqual(1);
    const t = variantParams(getExercise('output-size/transposed-4x4-s2'), { seed: '218' });
    expect((t.in - 1) * t.stride - 2 * t.pad + t.k + t.outputPadding).toBeGreaterThanOrEqual(1);
  });

  it('students get different answers (the few exercises whose answers cannot vary much are listed)', () => {
    const FEW: Record<string, number> = {
      'output-size/7x7-k3-s3': 1, // "does it fit?": the variants keep the notes' "no"
      'padding/same-f3': 6, // (F − 1)/2 for odd F up to 13
      'padding/same-f5': 6,
      'padding/same-f7': 6,
      'stack/3x3x3-receptive-field': 10, // 1 + L·(K − 1) for a few depths and kernels
      'stack/3x3x3-weights': 10,
      'stack/7x7-weights': 10,
      'params/free-parameters': 15,
      'output-size/7x7-k3-s1': 15,
      'output-size/7x7-k3-s2': 15,
      'output-size/7x7-k3-pad1': 15,
      'params/10f5-per-filter': 15,
      'lenet/conv1-weights-per-filter': 15,
      'alexnet/conv1-weights-per-filter': 15,
      'vgg16/fc1-weights': 15,
    };
    for (const e of loadBank()) {
      const answers = new Set(Array.from({ length: 100 }, (_, i) => JSON.stringify(kindOf(e).answer(variantParams(e, { student: `s${i}` })))));
      expect(answers.size, e.id).toBeGreaterThanOrEqual(FEW[e.id] ?? 20);
    }
  }, 60000); // 100 students × every exercise of the bank: 4–10 s on a loaded machine, past vitest's 5 s default
});
