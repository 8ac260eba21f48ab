/**
 * What every exercise kind is, and the helpers the kinds share: running a registry op the way
 * `eval` does, reading tensors back as nested arrays, and writing numbers in worked solutions.
 */
import { getOp, resolveParams } from '../../registry.js';
import '../../ops/index.js'; // the ops the kinds run
import { fromData, type Arr } from '../../tensor.js';
import { flat } from '../../reference/common.js';
import type { Rng } from '../../rng.js';
import type { Answer, Expects } from '../answers.js';

export type { Answer } from '../answers.js';
export type P = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface WrongAnswer {
  value: Answer;
  /** What the student likely did, as a verb phrase that follows "Looks like you …". */
  label: string;
  /** Stable name of the mistake (labels may carry the variant's numbers). Default: the label. */
  id?: string;
  /** The mistake is a slip of the notes themselves (the label says where). */
  slip?: boolean;
}

/**
 * An exercise kind is a generator: from its parameters it writes the question, computes the
 * answer with the library's own functions (never typed in), lists the likely wrong answers with
 * what each reveals, works the solution, hints at the method, and draws new numbers of its kind.
 */
export interface Kind {
  name: string;
  /** Integer answers must be exact; real ones to 4 significant digits. */
  exact: boolean;
  question(p: P): string;
  /** The answer; throws (the op's own error) when the op's shape checks reject the parameters. */
  answer(p: P): Answer;
  /** The worked solution without its last line: the bank adds "Answer: …" from answer(). */
  steps(p: P): string[];
  mistakes(p: P): WrongAnswer[];
  /** The method, never the answer: what to recheck after a wrong answer no mistake explains. */
  hint(p: P): string;
  /** What the question states about its answer beyond its shape: a percentage, a unit. */
  expects?(p: P): Partial<Expects>;
  /** New numbers of the same kind. Members of a group draw from one generator and must agree. */
  vary(rng: Rng, p: P): P;
  /** Whether a variant still teaches what the notes' numbers teach (beyond its mistakes); a reason when not. `answer` is the variant's answer. */
  keeps?(variant: P, base: P, answer: Answer): true | string;
}

export const run = (op: string, inputs: Record<string, Arr>, params: P) => getOp(op).reference(inputs, resolveParams(getOp(op), params));

/** Nested arrays of a tensor: its last `dims` dimensions (the leading ones are 1). */
export function nested(a: Arr, dims = a.shape.length): Answer {
  const shape = a.shape.slice(a.shape.length - dims);
  const d = Array.from(flat(a));
  const rec = (off: number, s: number[]): Answer => (s.length === 0 ? d[off] : Array.from({ length: s[0] }, (_, i) => rec(off + i * s.slice(1).reduce((x, y) => x * y, 1), s.slice(1))));
  return rec(0, shape);
}

/** A matrix as a [1, 1, H, W] tensor. */
export const grid = (rows: number[][]) => fromData(rows.flat(), [1, 1, rows.length, rows[0].length]);
export const randGrid = (rng: Rng, h: number, w: number, lo = 0, hi = 9) => Array.from({ length: h }, () => Array.from({ length: w }, () => rng.int(lo, hi)));

/**
 * A number in a worked solution: integers as they are, reals to 5 significant digits (one more than
 * the tolerance, so the arithmetic shown checks out at the precision shown).
 */
export function num(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(5)));
}

/** An answer, list or matrix in a worked solution. */
export const fmt = (a: Answer): string => (Array.isArray(a) ? `[${a.map(fmt).join(', ')}]` : typeof a === 'number' ? num(a) : a);

/** The answer as the solution's last line gives it: precise enough to paste into `check`. */
export function answerText(a: Answer): string {
  if (Array.isArray(a)) return `[${a.map(answerText).join(', ')}]`;
  if (typeof a === 'string') return a;
  if (Number.isInteger(a)) return Math.abs(a) >= 10000 ? a.toLocaleString('en-US') : String(a);
  return String(Number(a.toPrecision(6)));
}

export const dims = (xs: number[]) => xs.join('×');
export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
