/**
 * What the grading platforms tell the grader about a submission: who submitted it (for the
 * per-student random cases and exercise variants). Read from the files they lay out, under a root
 * that `CNN_ORACLE_PLATFORM_ROOT` moves (default `/`; the tests lay out a fake one):
 * - Gradescope: `/autograder/submission_metadata.json`: the student is the submitter's id (group
 *   submissions: every member's, sorted and joined with `+`, so the group shares one variant);
 * - PrairieLearn: `/grade/data/data.json`: no user id reaches the external grader, so the variant
 *   is PrairieLearn's own `variant_seed` (each student's question variant), as `variant-<seed>`.
 * `--student` overrides both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const platformRoot = () => process.env.CNN_ORACLE_PLATFORM_ROOT ?? '/';

export interface SubmitterInfo {
  student: string;
  /** Where the id came from, for the result's notes. */
  source: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The student a platform says submitted, or undefined when no platform file is there (or it names nobody). */
export function submitterFromPlatform(root = platformRoot()): SubmitterInfo | undefined {
  const gs = join(root, 'autograder', 'submission_metadata.json');
  if (existsSync(gs)) {
    const m = readJson(gs) as { users?: { id?: unknown; email?: unknown; name?: unknown }[] } | undefined;
    const ids = (m?.users ?? []).map((u) => u.id ?? u.email ?? u.name).filter((x) => x !== undefined && x !== null && String(x).trim() !== '').map(String);
    if (ids.length) return { student: [...new Set(ids)].sort().join('+'), source: 'Gradescope’s submission_metadata.json' };
  }
  const pl = join(root, 'grade', 'data', 'data.json');
  if (existsSync(pl)) {
    const d = readJson(pl) as { variant_seed?: unknown } | undefined;
    if (d?.variant_seed !== undefined && d.variant_seed !== null && String(d.variant_seed) !== '') return { student: `variant-${String(d.variant_seed)}`, source: 'PrairieLearn’s data.json (variant_seed)' };
  }
  return undefined;
}
