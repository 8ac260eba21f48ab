/**
 * The exercise bank (exercises/bank.json): loading, per-student variants (one per question, well
 * posed, keeping what the question teaches), reading and checking answers with feedback a
 * student can act on, worked solutions, and grading a whole answer sheet.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, schemaError } from '../json-schema.js';
import Mustache from 'mustache';
import { OracleError } from '../errors.js';
import { Rng } from '../rng.js';
import { PACKAGE_ROOT } from '../grading/assignment.js';
import { answerKey, answerKeys, readAnswer, sameAnswer, shapeOf, ANSWER_DIGITS, MISTAKE_DIGITS, type Expects, type Reading } from './answers.js';
import { answerText, KINDS, type Answer, type Kind, type P, type WrongAnswer } from './kinds/index.js';

export { sameAnswer } from './answers.js';

export interface Exercise {
  id: string;
  kind: string;
  /** A Mustache template over the variant's params ({{in}}, {{k}} …; {{#v0}}…{{/v0}} only for the notes' numbers). */
  title: string;
  params: P;
  /** The deck the exercise comes from ("deck 003 (…)"), or "not in the decks: …". */
  source: string;
  /** Words of that deck the exercise rests on (checked against shared/course-notes by the tests). */
  evidence?: string;
  /** The parts of one question share it: one variant draws the numbers for all of them. */
  group?: string;
  erratum?: { deckValue: Answer; explanation: string };
}

let cache: Exercise[] | undefined;

export function loadBank(): Exercise[] {
  if (cache) return cache;
  const dir = join(PACKAGE_ROOT, 'exercises');
  const schema = JSON.parse(readFileSync(join(dir, 'bank.schema.json'), 'utf8')) as object;
  const bank = JSON.parse(readFileSync(join(dir, 'bank.json'), 'utf8')) as { exercises: Exercise[] };
  const validate = compile(schema);
  if (!validate(bank)) throw new Error(`exercises/bank.json: ${schemaError(validate.errors![0]).message}`);
  // frozen: the params of a variant are shared (variantParams keeps them, and the bank remembers
  // each one's answer and mistakes), so no caller may change them
  cache = deepFreeze(bank.exercises);
  return cache;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

export function getExercise(id: string): Exercise {
  const e = loadBank().find((x) => x.id === id);
  if (!e) {
    const near = loadBank().filter((x) => x.id.startsWith(id.split('/')[0]));
    throw new OracleError('INVALID_CASE', `no exercise ${JSON.stringify(id)}${near.length ? `; in ${id.split('/')[0]}/: ${near.map((x) => x.id).join(', ')}` : ''} (\`cnn-oracle exercise list\`)`);
  }
  return e;
}

export const kindOf = (e: Exercise): Kind => KINDS[e.kind];

/** Which variant: 0 (the notes' numbers), a seed, or a student id. */
export interface VariantChoice {
  seed?: string;
  student?: string;
}

export const isVariantZero = (v: VariantChoice) => v.student === undefined && (v.seed === undefined || v.seed === '0');

const variantKey = (v: VariantChoice) => (v.student !== undefined ? `student:${v.student}` : `seed:${v.seed}`);

/** The exercises that share this one's variant (its group), in bank order. */
export const groupOf = (e: Exercise): Exercise[] => (e.group ? loadBank().filter((x) => x.group === e.group) : [e]);

/**
 * Draws tried before a variant is declared impossible. About 1 in 10 draws of the pickiest
 * questions (two axes that must both divide evenly) is a good variant; of 300 seeds per question
 * none needed more than 50.
 */
const MAX_DRAWS = 1000;
const variants = new Map<string, Map<string, P>>();

/**
 * The numbers of a variant. Variant 0 is the notes' own. Others are drawn, reproducibly from the
 * group and the seed or student, once for the whole group, and drawn again until every part is a
 * question the op's own shape checks accept and still teaches what the notes' version teaches
 * (see `problemWith`).
 */
export function variantParams(e: Exercise, v: VariantChoice = {}): P {
  if (isVariantZero(v)) return e.params;
  const members = groupOf(e);
  const gid = e.group ?? e.id;
  const key = `${gid}/${variantKey(v)}`;
  if (!variants.has(key)) {
    let found: Map<string, P> | undefined;
    let last: string | undefined;
    for (let attempt = 0; attempt < MAX_DRAWS && !found; attempt++) {
      const seed = attempt ? `${key}#${attempt}` : key;
      // each member draws from its own generator on the same seed, so drawing a member only once
      // the ones before it are good gives the same numbers as drawing them all first
      const drawn = new Map<string, P>();
      last = undefined;
      for (const m of members) {
        const p = deepFreeze(kindOf(m).vary(new Rng(seed), m.params));
        drawn.set(m.id, p);
        last = problemWith(m, p);
        if (last !== undefined) break;
      }
      if (last === undefined) found = drawn;
    }
    if (!found) throw new OracleError('INTERNAL', `no well-posed variant of ${gid} for ${variantKey(v)} in ${MAX_DRAWS} draws (the last: ${last})`);
    variants.set(key, found);
  }
  return variants.get(key)!.get(e.id)!;
}

/**
 * Why these numbers are not a good variant of the exercise, or undefined when they are: the op
 * rejects them; the answer is not a finite number; the kind's own test of the point fails (an
 * uneven size turned even, no pair at the NMS threshold …); or a mistake the notes' numbers can
 * diagnose can no longer be told from the answer or from another mistake.
 */
export function problemWith(e: Exercise, p: P): string | undefined {
  const k = kindOf(e);
  try {
    // the cheap tests first: most rejected draws fail keeps or lose a mistake, and the question's
    // text and worked solution (which only ever fail on numbers the op rejects) are built last
    const want = answerOf(k, p);
    if (!finite(want)) return `the answer ${JSON.stringify(want)} is not finite`;
    const keeps = k.keeps?.(p, e.params, want) ?? true;
    if (keeps !== true) return keeps;
    const have = diagnosable(mistakesOf(k, p), k.exact);
    const lost = [...baseDiagnosable(e)].find((id) => !have.has(id));
    if (lost !== undefined) return `the mistake "${lost}" cannot be told from the answer`;
    k.question(p);
    k.steps(p);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * A variant's answer and its mistakes as checking tries them, worked out once per params object:
 * the kinds are pure functions of their params, and the bank's params and every drawn variant are
 * frozen (deep) before they are first tested; params that are not frozen are worked out afresh.
 * Checking an answer then reuses what testing the draw computed. Only the bank reads these values;
 * none is handed out, so no caller can change them.
 */
const answers = new WeakMap<P, { k: Kind; value: Answer }>();
const tables = new WeakMap<P, { k: Kind; value: MistakeTable }>();
function memo<T>(cache: WeakMap<P, { k: Kind; value: T }>, k: Kind, p: P, make: () => T): T {
  if (!Object.isFrozen(p)) return make(); // a caller's own params (problemWith is exported) may still change
  const had = cache.get(p);
  if (had?.k === k) return had.value;
  const value = make();
  cache.set(p, { k, value });
  return value;
}
const answerOf = (k: Kind, p: P): Answer => memo(answers, k, p, () => k.answer(p));
const mistakesOf = (k: Kind, p: P): MistakeTable => memo(tables, k, p, () => mistakeTable(k.mistakes(p), answerOf(k, p), k.exact));

const finite = (a: Answer): boolean => (Array.isArray(a) ? a.length > 0 && a.every(finite) : typeof a === 'string' || Number.isFinite(a));

/** A variant's mistakes as checking tries them. */
interface MistakeTable {
  /** tellableMistakes: in the order checking tries them. */
  tellable: WrongAnswer[];
  /** Every canonical key (to MISTAKE_DIGITS) of a tellable mistake's value, with the first tellable mistake that has it. */
  firstWith: Map<string, WrongAnswer>;
}

function mistakeTable(ms: WrongAnswer[], want: Answer, exact: boolean): MistakeTable {
  const tellable = tellableMistakes(ms, want, exact);
  const firstWith = new Map<string, WrongAnswer>();
  for (const m of tellable) for (const key of answerKeys(m.value, exact, MISTAKE_DIGITS)) if (!firstWith.has(key)) firstWith.set(key, m);
  return { tellable, firstWith };
}

/**
 * The mistake an answer looks like: the first tellable one it matches to MISTAKE_DIGITS.
 * sameAnswer(answer, m.value, exact, MISTAKE_DIGITS) is "m's canonical keys include the answer's
 * key", so that is the mistake the table remembers for the answer's key.
 */
const firstMistake = (t: MistakeTable, answer: Answer, exact: boolean): WrongAnswer | undefined => t.firstWith.get(answerKey(answer, exact, MISTAKE_DIGITS));

/** The mistakes that checking reports when a student gives exactly their value. */
function diagnosable(t: MistakeTable, exact: boolean): Set<string> {
  const ids = new Set<string>();
  for (const m of t.tellable) if (firstMistake(t, m.value, exact) === m) ids.add(m.id ?? m.label);
  return ids;
}

const baseIds = new Map<string, Set<string>>();
function baseDiagnosable(e: Exercise): Set<string> {
  if (!baseIds.has(e.id)) baseIds.set(e.id, diagnosable(mistakesOf(kindOf(e), e.params), kindOf(e).exact));
  return baseIds.get(e.id)!;
}

/**
 * The mistakes worth telling apart: a finite value that is not the answer, in the order checking
 * tries them. (sameAnswer(m.value, want, exact) is "want's canonical keys include m's key"; want's
 * keys are computed once here.)
 */
export function tellableMistakes(ms: WrongAnswer[], want: Answer, exact: boolean): WrongAnswer[] {
  const right = new Set(answerKeys(want, exact, ANSWER_DIGITS));
  return ms.filter((m) => finite(m.value) && !right.has(answerKey(m.value, exact, ANSWER_DIGITS)));
}

/** What the question states about its answer: the student's page and `check` read answers with it. */
export function expectsOf(e: Exercise, p: P): Expects {
  const k = kindOf(e);
  return { exact: k.exact, scalar: !Array.isArray(k.answer(p)), ...(k.expects?.(p) ?? {}) };
}

/** Reads an answer as the question expects it (see answers.ts readAnswer). */
export function readAnswerFor(e: Exercise, v: VariantChoice, text: string): Reading {
  try {
    return readAnswer(text, expectsOf(e, variantParams(e, v)));
  } catch (err) {
    throw new OracleError('INVALID_CASE', (err as Error).message);
  }
}

/**
 * Reads an answer without knowing its question: one number where the text is one (thousands
 * separators and K / M suffixes allowed), else a shape, list or matrix.
 */
export function parseAnswer(text: string): Answer {
  try {
    const one = readAnswer(text, { exact: true, scalar: true });
    // "5x5" read as one number is only right when the question asks for one; here nothing says so
    return one.notes.length ? readAnswer(text, { exact: true, scalar: false }).value : one.value;
  } catch (err) {
    throw new OracleError('INVALID_CASE', (err as Error).message);
  }
}

export interface CheckOutcome {
  correct: boolean;
  /** The likely mistake, when the answer matches one. */
  mistake?: string;
  /** The mistake is a slip of the notes themselves. */
  slip?: boolean;
  /** When the answer is the notes' erratum value: why it is wrong. */
  erratum?: string;
  /** How the answer was read, when not literally (5x5 as 5, 0.75 as 75 %). */
  notes: string[];
  /** What else the student can act on: wrong cells, a wrong shape, a rounded count, the method. */
  advice?: string;
  /** The tolerance the question states. */
  tolerance: string;
}

export function toleranceText(k: Kind): string {
  return k.exact ? 'exact (integers); reals to 4 significant digits' : '4 significant digits';
}

export function checkAnswer(e: Exercise, v: VariantChoice, answer: Answer, reading?: Reading): CheckOutcome {
  const k = kindOf(e);
  const p = variantParams(e, v);
  const want = answerOf(k, p);
  const base = { tolerance: toleranceText(k), notes: reading?.notes ?? [] };
  if (sameAnswer(answer, want, k.exact)) return { correct: true, ...base };
  if (e.erratum && isVariantZero(v) && sameAnswer(answer, e.erratum.deckValue, k.exact, MISTAKE_DIGITS)) return { correct: false, erratum: e.erratum.explanation, ...base };
  const m = firstMistake(mistakesOf(k, p), answer, k.exact);
  if (m) return { correct: false, mistake: m.label, ...(m.slip ? { slip: true } : {}), ...base };
  return { correct: false, advice: adviceFor(k, p, answer, want, reading), ...base };
}

/** Feedback for a wrong answer no mistake explains, that does not give the answer away. */
function adviceFor(k: Kind, p: P, answer: Answer, want: Answer, reading?: Reading): string {
  if (typeof answer === 'number' && typeof want === 'number' && Number.isInteger(answer) && Number.isInteger(want)) {
    const sig = String(Math.abs(answer)).replace(/0+$/, '').length;
    if ((reading?.abbreviated || /000$/.test(String(answer))) && sig < String(Math.abs(want)).length && Number(want.toPrecision(sig)) === answer) return `that is the count rounded to ${sig} significant digit${sig > 1 ? 's' : ''}: give the exact count`;
    if (reading?.abbreviated) return 'give the exact count, not a rounded one';
  }
  const [gs, ws] = [shapeOf(answer), shapeOf(want)];
  if (JSON.stringify(gs) !== JSON.stringify(ws)) {
    if (!ws.length) return `the question asks for one number; hint: ${k.hint(p)}`;
    return `the shape is wrong: you gave ${gs === 'ragged' ? 'rows of different lengths' : gs.length ? gs.join('×') + ' values' : 'one number'}; hint: ${k.hint(p)}`;
  }
  if (Array.isArray(want) && ws !== 'ragged' && ws.length) {
    const cells = wrongCells(answer as Answer[], want, k.exact);
    const total = (ws as number[]).reduce((a, b) => a * b, 1);
    const [one, many, where] = ws.length === 1 ? ['entry', 'entries', 'from 1'] : ['cell', 'cells', ws.length === 2 ? 'row, column from 1' : 'indices from 1'];
    const shown = cells.slice(0, 6).join(', ') + (cells.length > 6 ? ', …' : '');
    return `${cells.length} of ${total} ${total === 1 ? one : many} wrong (${where}): ${shown}${cells.length < total ? '; the others are right' : ''}; hint: ${k.hint(p)}`;
  }
  return `hint: ${k.hint(p)}`;
}

function wrongCells(got: Answer[], want: Answer[], exact: boolean, at: number[] = []): string[] {
  return want.flatMap((w, i) => {
    const here = [...at, i + 1];
    if (Array.isArray(w)) return wrongCells(got[i] as Answer[], w, exact, here);
    return sameAnswer(got[i], w, exact) ? [] : [here.length > 1 ? `(${here.join(', ')})` : String(here[0])];
  });
}

/** The lines `check` prints under "right:" or "wrong:", and an answer sheet's message. */
export function feedbackLines(r: CheckOutcome): string[] {
  const lines = r.notes.map((n) => `(${n})`);
  if (r.erratum) lines.push(`That is the value the notes give, and it is an erratum: ${r.erratum}`);
  else if (r.mistake) lines.push(`Looks like you ${r.mistake}.`);
  else if (r.advice) lines.push(r.advice[0].toUpperCase() + r.advice.slice(1) + '.');
  return lines;
}

const noEscape = { escape: (s: string) => s };

/** The title with the variant's numbers. */
export function titleText(e: Exercise, v: VariantChoice = {}): string {
  return Mustache.render(e.title, { ...variantParams(e, v), v0: isVariantZero(v) }, {}, noEscape);
}

export function questionText(e: Exercise, v: VariantChoice = {}): string {
  const k = kindOf(e);
  return `${k.question(variantParams(e, v))}\n(Tolerance: ${toleranceText(k)}.)`;
}

/** The worked solution, its last line the answer as `check` accepts it. */
export function solutionText(e: Exercise, v: VariantChoice = {}): string[] {
  const p = variantParams(e, v);
  const k = kindOf(e);
  const steps = k.steps(p);
  if (e.erratum && isVariantZero(v)) steps.push(`Erratum: ${e.erratum.explanation}`);
  steps.push(`Answer: ${answerText(k.answer(p))}`);
  return steps;
}

/** The options that select this variant on the command line (`--student ada`). */
export function variantFlags(v: VariantChoice): string {
  const q = (s: string) => (/^[\w.@:+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return v.student !== undefined ? ` --student ${q(v.student)}` : !isVariantZero(v) ? ` --seed ${q(v.seed!)}` : '';
}


