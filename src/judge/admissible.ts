/**
 * Set-valued expectations (issue 13): where rounding at the judged precision can flip a discrete
 * decision (an IoU at the NMS threshold, a RoIAlign sample on the map border, a RoIPool bin edge, a
 * max-pool tie created by rounding the inputs, a nearest-neighbour index), every outcome it can flip
 * to is correct. `check`, `grade` and `conformance` (through src/judge/) call admissibleFor when an answer differs from
 * the exact reference.
 *
 * An op's `admissible` hook gives whole alternative outputs (NMS keep sets) and/or blocks: disjoint
 * sets of positions of one output, each with its admissible value vectors (the exact one first). An
 * answer is admissible when it equals a whole alternative, or when every block of it equals one of
 * that block's vectors and every element outside the blocks equals the exact output (index outputs
 * exactly, others within `allowed`). Blocks are chosen so that one implementation makes each block's
 * decisions together (one RoI, one pooling window), so variants combine block by block.
 *
 * A block with `any` set admits every value at its positions (NaN and ±∞ included): the op's output
 * is undefined there, not merely rounding-sensitive (a normalisation's gradient where σ = 0). The
 * alternative assembled for it takes the answer's own values at those positions, with no slack.
 */
import type { OpDef, Inputs, Outputs, Params } from '../registry.js';
import { compareArrays } from './compare.js';
import { flat } from '../reference/common.js';
import { fromData } from '../tensor.js';

/** Rounding to the precision of unit roundoff u (float32 or float64). */
export const rounder = (u: number): ((x: number) => number) => (u === 2 ** -24 ? Math.fround : (x: number) => x);

/** Most reasons listed in a why; the rest are counted. */
const MAX_REASONS = 6;

/** A why from a list of ambiguous decisions (the first few shown, the rest counted) and a note on any cap. */
export function ambiguityReason(decisions: string[], capped?: string): string {
  const shown = decisions.slice(0, MAX_REASONS).join('; ');
  const more = decisions.length > MAX_REASONS ? `; and ${decisions.length - MAX_REASONS} more` : '';
  return `ambiguous at this precision (rounding may flip a decision): ${shown}${more}${capped ? '; ' + capped : ''}`;
}

/** A why for outputs the maths leaves undefined (blocks with `any`): the places, the first few shown, the rest counted. */
export function undefinedReason(places: string[]): string {
  const shown = places.slice(0, MAX_REASONS).join('; ');
  const more = places.length > MAX_REASONS ? `; and ${places.length - MAX_REASONS} more` : '';
  return `ambiguous (the result is mathematically undefined there, so any value is accepted): ${shown}${more}`;
}

/**
 * When `got` equals one of the op's admissible alternatives (index outputs exactly, others within
 * `allowed`), the reason the case is ambiguous; otherwise undefined.
 */
export function admissibleMatch(op: OpDef, inputs: Inputs, params: Params, u: number, got: Outputs, allowed: (name: string) => (i: number, e: number) => number): string | undefined {
  return admissibleFor(op, inputs, params, u, got, allowed)?.why;
}

/** One element as compareArrays judges it: finite within tol, NaN only with NaN, ±∞ only with itself. */
const sameElement = (g: number, e: number, tol: number): boolean => (Number.isFinite(g) && Number.isFinite(e) ? Math.abs(g - e) <= tol : Object.is(g, e) || (Number.isNaN(g) && Number.isNaN(e)));

/** The admissible alternative `got` equals (whole, or assembled block by block), with the reason; undefined when none. */
export function admissibleFor(
  op: OpDef,
  inputs: Inputs,
  params: Params,
  u: number,
  got: Outputs,
  allowed: (name: string) => (i: number, e: number) => number,
): { why: string; outputs: Outputs; slack?: Record<string, Float64Array> } | undefined {
  if (!op.admissible) return undefined;
  const alt = op.admissible(inputs, params, u);
  if (!alt) return undefined;
  const isIndex = (name: string) => op.outputs.find((o) => o.name === name)?.dtype === 'int64';
  const tolOf = (name: string) => (isIndex(name) ? () => 0 : allowed(name));
  for (const outputs of alt.outputs) {
    const ok = Object.entries(outputs).every(([name, e]) => {
      const g = got[name];
      return g ? compareArrays(g, e, tolOf(name)).ok : false;
    });
    if (ok) return { why: alt.why, outputs };
  }
  if (!alt.blocks?.length) return undefined;
  const exact = op.reference(inputs, params);
  const assembled: Outputs = {};
  const slack: Record<string, Float64Array> = {};
  for (const [name, e] of Object.entries(exact)) {
    const g = got[name];
    if (!g || g.data.length !== e.data.length) return undefined;
    const gd = flat(g);
    const data = Float64Array.from(flat(e));
    const extra = new Float64Array(data.length);
    const tol = tolOf(name);
    for (const b of alt.blocks.filter((x) => x.name === name)) {
      if (b.any) {
        for (const pos of b.at) data[pos] = gd[pos];
        continue;
      }
      const v = b.values.findIndex((vals, k) => b.at.every((pos, t) => sameElement(gd[pos], vals[t], tol(pos, vals[t]) + (b.slack?.[k][t] ?? 0))));
      if (v < 0) return undefined;
      b.at.forEach((pos, t) => {
        data[pos] = b.values[v][t];
        extra[pos] = b.slack?.[v][t] ?? 0;
      });
    }
    const a = fromData(data, e.shape.slice());
    if (!compareArrays(g, a, (i, x) => tol(i, x) + extra[i]).ok) return undefined;
    assembled[name] = a;
    slack[name] = extra;
  }
  return { why: alt.why, outputs: assembled, slack };
}
