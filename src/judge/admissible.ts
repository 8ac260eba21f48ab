/**
 * Set-valued expectations (issue 13): where rounding at the judged precision can flip a discrete
 * decision (an IoU at the NMS threshold), every outcome it can flip to is correct. `check`,
 * `grade` and `conformance` call admissibleMatch when an answer differs from the exact reference.
 */
import type { OpDef, Inputs, Outputs, Params } from '../registry.js';
import { compareArrays } from './compare.js';

/**
 * When `got` equals one of the op's admissible alternatives (index outputs exactly, others within
 * `allowed`), the reason the case is ambiguous; otherwise undefined.
 */
export function admissibleMatch(op: OpDef, inputs: Inputs, params: Params, u: number, got: Outputs, allowed: (name: string) => (i: number, e: number) => number): string | undefined {
  return admissibleFor(op, inputs, params, u, got, allowed)?.why;
}

/** The admissible alternative `got` equals, with the reason; undefined when none. */
export function admissibleFor(op: OpDef, inputs: Inputs, params: Params, u: number, got: Outputs, allowed: (name: string) => (i: number, e: number) => number): { why: string; outputs: Outputs } | undefined {
  if (!op.admissible) return undefined;
  const alt = op.admissible(inputs, params, u);
  if (!alt) return undefined;
  for (const outputs of alt.outputs) {
    const ok = Object.entries(outputs).every(([name, e]) => {
      const g = got[name];
      if (!g) return false;
      const exact = op.outputs.find((o) => o.name === name)?.dtype === 'int64';
      return compareArrays(g, e, exact ? () => 0 : allowed(name)).ok;
    });
    if (ok) return { why: alt.why, outputs };
  }
  return undefined;
}
