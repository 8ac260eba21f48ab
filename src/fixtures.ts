/**
 * Fixture files: for every op, seeded random cases from its generator plus hand-picked edge
 * cases, each with `expected` from the reference. `npm run fixtures` (scripts/gen-fixtures.ts)
 * writes them under fixtures/; a test checks the committed files are exactly what this produces.
 */
import { allOps, getOp, resolveParams, type OpDef, type Inputs, type Params } from './registry.js';
import { fromData, stringify, type DType } from './tensor.js';
import { encodeInputs, encodeOutputs } from './cases.js';
import { Rng } from './rng.js';
import { CURATED } from './fixtures-curated.js';
import './ops/index.js';

/** How many random cases each op gets. */
export const RANDOM_CASES = 8;

export interface CuratedCase {
  id: string;
  op: string;
  inputs: Record<string, { shape: number[]; data: number[]; dtype?: DType }>;
  params?: Params;
  tags?: string[];
  note?: string;
}

export function caseWithExpected(op: OpDef, id: string, inputs: Inputs, params: Params, extra: { tags?: string[]; note?: string } = {}): Record<string, unknown> {
  const out = op.reference(inputs, resolveParams(op, params)); // params as written; defaults filled for the run
  return {
    id,
    op: op.name,
    inputs: encodeInputs(op, inputs),
    params,
    expected: encodeOutputs(op, out),
    ...(extra.tags ? { tags: extra.tags } : {}),
    ...(extra.note ? { note: extra.note } : {}),
  };
}

/** The text of every fixture file, keyed by its path under fixtures/. */
export function buildFixtures(): Map<string, string> {
  const files = new Map<string, string>();
  for (const op of allOps()) {
    const lines: string[] = [];
    for (const c of CURATED.filter((k) => k.op === op.name)) {
      const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, fromData(v.data, v.shape)]));
      lines.push(stringify(caseWithExpected(op, c.id, inputs, { ...(c.params ?? {}) }, { tags: c.tags, note: c.note })));
    }
    if (op.generate) {
      const rng = new Rng(`fixtures/${op.name}`);
      for (let k = 0; k < RANDOM_CASES; k++) {
        const g = op.generate(rng);
        lines.push(stringify(caseWithExpected(op, `${op.name}/random-${k}`, g.inputs, g.params, { tags: ['random', ...(g.tags ?? [])] })));
      }
    }
    if (lines.length) files.set(`${op.family}/${op.name}.jsonl`, lines.join('\n') + '\n');
  }
  for (const c of CURATED) getOp(c.op); // every curated case names a real op
  return files;
}
