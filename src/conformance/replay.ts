/**
 * `conformance --cases FILE`: exactly the cases of a case file (one case, an array, or JSON Lines,
 * e.g. what `--reproducers` wrote) run against a target, instead of the fixtures, probes and
 * random cases. Their `expected` outputs are not used: each case is judged against the reference,
 * at the target's precision, as every conformance case is. A case that does not validate is an
 * error naming the file, the case and the field (the run's bad usage, exit 2).
 */
import { prepareCase, readCaseFile } from '../cases.js';
import { OracleError } from '../errors.js';
import type { RunCase } from './run.js';

export function loadCases(file: string): RunCase[] {
  const out: RunCase[] = [];
  const ids = new Set<string>();
  for (const rc of readCaseFile(file)) {
    const where = `${file} ${rc.where}`;
    if (rc.error) throw new OracleError(rc.error.code, `${where}: ${rc.error.message}`, rc.error.path);
    let p;
    try {
      p = prepareCase(rc.value, rc.index);
    } catch (e) {
      if (e instanceof OracleError) throw new OracleError(e.code, `${where}${e.path ? ` at ${e.path}` : ''}: ${e.message}`, e.path);
      throw e;
    }
    // ids stay unique in the report: a repeated id gets its position
    const id = ids.has(p.id) ? `${p.id}#${rc.index}` : p.id;
    ids.add(id);
    out.push({ id, op: p.op.name, inputs: p.inputs, params: p.raw.params ?? {} });
  }
  return out;
}
