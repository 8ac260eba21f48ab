/**
 * Shrinking a failing random case to a small one a student can work by hand, with fast-check:
 * every value of the float inputs gets a state — 2 keep it, 1 round it to an integer, 0 make it
 * 0 — and fast-check, starting from "keep everything" (the failing case), shrinks the states
 * towards 0 while the submission keeps failing. Coordinates (boxes) and index inputs are left
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
  const all = new Array<number>(total).fill(2);
  const arb = fc.tuple(...all.map(() => fc.integer({ min: 0, max: 2 })));
  const deadline = performance.now() + budgetMs;
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
