/**
 * Shrinking a failing random case to a small one a student can work by hand, with fast-check:
 * every value of the float inputs gets a state — 2 keep it, 1 round it to an integer, 0 make it
 * 0 — and fast-check, starting from "keep everything" (the failing case), shrinks the states
 * towards 0 while the submission keeps failing; shrinkFailure adds the rule conformance and grading
 * share: the failure keeps its kind and its severity (keepsSeverity). Coordinates (boxes) and index inputs are left
 * alone so the case stays meaningful.
 */
import fc from 'fast-check';
import type { Inputs, OpDef } from '../registry.js';
import { fromData } from '../tensor.js';
import { flat } from '../reference/common.js';

const UNTOUCHABLE = new Set(['boxes', 'boxes1', 'boxes2', 'indices', 'classes', 'target', 'mask']);

export function shrinkable(op: OpDef): string[] {
  return op.inputs.filter((s) => (s.kind ?? 'float') === 'float' && !UNTOUCHABLE.has(s.name)).map((s) => s.name);
}

function applyStates(inputs: Inputs, names: string[], states: number[]): Inputs {
  const out: Inputs = { ...inputs };
  let k = 0;
  for (const n of names) {
    const d = flat(inputs[n]);
    out[n] = fromData(d.map((v) => {
      const s = states[k++];
      return s === 2 ? v : s === 1 ? Math.round(v) : 0;
    }), inputs[n].shape);
  }
  return out;
}

/**
 * Returns a smaller failing variant of `inputs`, or undefined when none was found. `fails` runs
 * the submission on a variant and says whether it still fails. The budget is checked before each
 * run, never by abandoning one: a run in flight always finishes (its request is answered or timed
 * out by the grader), so no request is left on the submission's process for the next case.
 */
export async function shrinkCase(op: OpDef, inputs: Inputs, fails: (variant: Inputs) => Promise<boolean>, budgetMs = 4000): Promise<Inputs | undefined> {
  const names = shrinkable(op).filter((n) => inputs[n]);
  const total = names.reduce((s, n) => s + flat(inputs[n]).length, 0);
  if (!total) return undefined;
  const deadline = performance.now() + budgetMs;
  const all = new Array<number>(total).fill(2);
  // the smallest variant of all first: a failure that every input gives (a throw, a wrong shape)
  // shrinks in one run instead of one per value
  const smallest = applyStates(inputs, names, new Array<number>(total).fill(0));
  if (await fails(smallest)) return smallest;
  const arb = fc.tuple(...all.map(() => fc.integer({ min: 0, max: 2 })));
  // past the deadline every further candidate "passes", so fast-check stops shrinking at once
  const result = await fc.check(
    fc.asyncProperty(arb, async (states) => performance.now() > deadline || !(await fails(applyStates(inputs, names, states as number[])))),
    { examples: [[all] as never], numRuns: 1, seed: 1, endOnFailure: false },
  );
  if (!result.failed || !result.counterexample) return undefined;
  const states = result.counterexample[0] as unknown as number[];
  if (states.every((s) => s === 2)) return undefined; // nothing simpler fails
  return applyStates(inputs, names, states);
}

/**
 * How much of a failure's severity a shrunk case must keep: a variant replaces the case only while
 * its worst error, as a multiple of its allowance, is at least this share of the original's (an
 * error 40× the allowance does not shrink into one 1.01× the allowance, a different and milder
 * bug). A failure of another kind (a wrong shape, NaN, an index, a throw: ∞× the allowance) keeps
 * only variants that fail that way too.
 */
export const SEVERITY_KEPT = 0.5;

/** Whether a variant's severity (× allowance) keeps enough of the original's. */
export const keepsSeverity = (original: number, variant: number): boolean => (original === Infinity ? variant === Infinity : variant > 1 && variant >= SEVERITY_KEPT * original);

/**
 * A failure as shrinking compares it: its kind (conformance's FailureKind, grading's ladder rung)
 * and its severity, the worst error as a multiple of its allowance (∞ for a failure of another
 * kind than wrong values).
 */
export interface Failure {
  kind: string;
  severity: number;
}

/**
 * The one shrinking rule of `conformance` and grading: a smaller variant of a failing case
 * replaces it only while it fails the same way (same kind) and keeps its severity (keepsSeverity).
 * `verdict` judges a variant: its failure, or undefined where it passes or is outside the op's
 * domain. Returns the shrunk inputs, or undefined when no smaller variant keeps the failure.
 */
export function shrinkFailure(op: OpDef, inputs: Inputs, original: Failure, verdict: (variant: Inputs) => Promise<Failure | undefined>, budgetMs?: number): Promise<Inputs | undefined> {
  return shrinkCase(
    op,
    inputs,
    async (variant) => {
      const f = await verdict(variant);
      return !!f && f.kind === original.kind && keepsSeverity(original.severity, f.severity);
    },
    budgetMs,
  );
}

/** A multiple of the allowance as printed: 3 significant digits, ∞ for a failure of another kind. */
export const timesAllowance = (x: number): string => (x === Infinity ? '∞×' : `${Number(x.toPrecision(3))}×`);
