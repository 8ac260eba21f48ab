/**
 * A conformance run: every op a target supports is run on the bundled fixtures, a few probes of
 * known-tricky corners, and seeded random cases; each result is compared with the exact reference
 * under the error bound at the target's precision. Results are grouped by op × parameter region
 * (which params differ from their defaults, and the form of the padding), with the worst error in
 * float32 ULPs and relative terms, and each failure shrunk to a small case file.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { getOp, resolveParams, type Inputs, type OpDef, type Outputs, type Params } from '../registry.js';
import { encodeInputs, encodeOutputs, parseCases, prepareCase } from '../cases.js';
import { admissibleMatch, allowances, compareArrays, describeMismatch, SEVERITY_KEPT, shrinkFailure, timesAllowance, unitRoundoff } from '../judge/index.js';
import { encodeNumber, fromData, stringify, type Arr } from '../tensor.js';
import { flat } from '../reference/common.js';
import { paddingForm } from '../geometry.js';
import { Rng } from '../rng.js';
import { PACKAGE_ROOT } from '../grading/assignment.js';
import { Unsupported, type TargetAdapter } from './adapter.js';
import { PROBE_FAMILIES, PROBES } from './probes.js';
import { toOutputs } from '../sandbox/runner/normalize.js';
import Mustache from 'mustache';

export interface Outcome {
  op: string;
  region: string;
  id: string;
  status: 'passed' | 'failed' | 'unsupported';
  reason?: string;
  worstUlp?: number;
  worstRel?: number;
  /** The worst error as a multiple of its allowance (∞: a wrong shape, non-finite value or index, a throw). */
  severity?: number;
  message?: string;
  /** A small case that reproduces the failure, with the reference's expected outputs. */
  reproducer?: Record<string, unknown>;
  /** When the reproducer was shrunk: the original's and the shrunk case's error, × the allowance. */
  shrunk?: { from: number; to: number };
  /** Passed on an admissible alternative (a decision rounding may flip): why the case is ambiguous. */
  ambiguous?: string;
}

export interface Row {
  op: string;
  region: string;
  passed: number;
  failed: number;
  unsupported: number;
  worstUlp: number;
  worstRel: number;
  /** The worst error of the row's judged cases as a multiple of its allowance. */
  worstRatio: number;
  reasons: string[];
}

export interface Report {
  target: string;
  description: string;
  precision: string;
  rows: Row[];
  failures: Outcome[];
  /** Cases passed on an admissible alternative, and why each was ambiguous. */
  ambiguous?: { id: string; why: string }[];
}

/** float32 spacing at |x|. */
function ulp32(x: number): number {
  const a = Math.abs(Math.fround(x));
  if (a < 1.1754943508222875e-38) return 1.401298464324817e-45;
  return Math.pow(2, Math.floor(Math.log2(a)) - 23);
}

/** A value equal to its default, also when written per axis ([1, 1] for 1, [0, 0, 0, 0] for 0). */
function sameAsDefault(v: unknown, d: unknown): boolean {
  if (JSON.stringify(v) === JSON.stringify(d)) return true;
  return typeof d === 'number' && Array.isArray(v) && v.every((x) => x === d);
}

/** Spatial dims of an op's first input (conv1d, maxPool1d: 1; their 2-D forms: 2). */
const spatialRank = (op: OpDef): number => (op.inputs[0].ranks?.[0] ?? 4) - 2;

/** The parameter region of a case: params that differ from their defaults (padding by its form). */
export function regionOf(op: OpDef, params: Params): string {
  const parts: string[] = [];
  for (const spec of op.params) {
    const v = params[spec.name];
    if (v === undefined) continue;
    if (spec.default !== undefined && sameAsDefault(v, spec.default)) continue;
    if (spec.default === undefined && !spec.optional) continue; // a required param: always there
    parts.push(spec.name === 'padding' ? `padding:${paddingForm(v, spatialRank(op))}` : typeof v === 'boolean' ? `${spec.name}=${v}` : spec.name);
  }
  return parts.length ? parts.sort().join(' ') : 'defaults';
}

export interface RunCase {
  id: string;
  /** The op (cases read by --cases; casesFor's cases are per op already). */
  op?: string;
  inputs: Inputs;
  params: Params;
}

function casesFor(op: OpDef, random: number, seed: string, probes: number): RunCase[] {
  const out: RunCase[] = [];
  const file = join(PACKAGE_ROOT, 'fixtures', op.family, `${op.name}.jsonl`);
  if (existsSync(file)) {
    for (const rc of parseCases(readFileSync(file, 'utf8'), file)) {
      const p = prepareCase(rc.value, rc.index);
      out.push({ id: p.id, inputs: p.inputs, params: p.raw.params ?? {} });
    }
  }
  for (const pr of PROBES.filter((x) => x.op === op.name)) {
    out.push({ id: pr.id, inputs: Object.fromEntries(Object.entries(pr.inputs).map(([k, v]) => [k, fromData(v.data, v.shape)])), params: pr.params });
  }
  for (const fam of PROBE_FAMILIES.filter((f) => f.op === op.name)) {
    const rng = new Rng(`conformance/probe/${fam.id}/${seed}`);
    for (let k = 0; k < probes; k++) {
      const g = fam.generate(rng);
      out.push({ id: `probe/${fam.id}-${seed}-${k}`, inputs: g.inputs, params: g.params });
    }
  }
  if (op.generate) {
    const rng = new Rng(`conformance/${op.name}/${seed}`);
    for (let k = 0; k < random; k++) {
      const g = op.generate(rng);
      out.push({ id: `${op.name}/seeded-${seed}-${k}`, inputs: g.inputs, params: g.params }); // fixtures own op/random-k
    }
  }
  return out;
}

/** What went wrong in a failed case, worst first: a shrunk case must fail the same way. */
type FailureKind = 'threw' | 'missing' | 'shape' | 'non-finite' | 'values';
const KINDS: FailureKind[] = ['threw', 'missing', 'shape', 'non-finite', 'values'];
const worse = (a: FailureKind, b: FailureKind): FailureKind => (KINDS.indexOf(a) <= KINDS.indexOf(b) ? a : b);

/** Compares a target's outputs with the reference; undefined when they agree. */
function judge(op: OpDef, inputs: Inputs, params: Params, want: Outputs, got: Outputs, precision: 'float32' | 'float64'): { message?: string; worstUlp: number; worstRel: number; severity: number; kind: FailureKind; ambiguous?: string } {
  const allowed = allowances(op, inputs, params, want, { kind: 'bound', precision });
  let worstUlp = 0;
  let worstRel = 0;
  let severity = 0;
  let kind: FailureKind = 'values';
  const problems: string[] = [];
  for (const [k, e] of Object.entries(want)) {
    const g = got[k];
    if (!g) {
      problems.push(`no output ${k}`);
      severity = Infinity;
      kind = worse(kind, 'missing');
      continue;
    }
    const m = compareArrays(g, e, allowed[k]);
    if (!m.ok) problems.push(describeMismatch(k, m));
    severity = Math.max(severity, m.worstRatio);
    if (!m.ok) kind = worse(kind, m.shape ? 'shape' : m.nonFinite ? 'non-finite' : 'values');
    if (!m.shape) {
      const ed = flat(e);
      const gd = flat(g);
      for (let i = 0; i < ed.length; i++) {
        if (!Number.isFinite(ed[i]) || !Number.isFinite(gd[i])) continue;
        const d = Math.abs(gd[i] - ed[i]);
        worstUlp = Math.max(worstUlp, d / ulp32(ed[i]));
        if (ed[i] !== 0) worstRel = Math.max(worstRel, d / Math.abs(ed[i]));
      }
    }
  }
  if (problems.length) {
    const why = admissibleMatch(op, inputs, params, unitRoundoff(precision), got, (k) => allowed[k]);
    if (why) return { worstUlp: 0, worstRel: 0, severity: 0, kind, ambiguous: why };
  }
  return { message: problems.length ? problems.join('\n') : undefined, worstUlp, worstRel, severity, kind };
}

/**
 * What an adapter answered, as the catalogue's outputs: every form a submission may return (an
 * ndarray, a nested array, `{shape, data}`, a typed array, for several outputs an object keyed by
 * output name). Anything else is an error naming the target, the op and the case.
 */
export function adapterOutputs(target: string, op: OpDef, id: string, answer: unknown): Outputs {
  let plain: ReturnType<typeof toOutputs>;
  try {
    plain = toOutputs(answer, op.outputs.map((o) => o.name));
  } catch (e) {
    throw new AdapterAnswerError(`${target} ${op.name} on case ${id}: the adapter's answer is not a result: ${errorText(e)}`);
  }
  return Object.fromEntries(Object.entries(plain).map(([k, t]) => [k, fromData(t.values, t.shape)]));
}

export class AdapterAnswerError extends Error {}

/** The first line of whatever was thrown (an Error, a string, anything). */
const errorText = (e: unknown): string => (e instanceof Error ? e.message : typeof e === 'string' ? e : (JSON.stringify(e) ?? String(e))).split('\n')[0];

/**
 * Targets whose WebAssembly instance trapped ("memory access out of bounds", "Aborted()"): such an
 * instance is broken for good, so the rest of the run cannot be judged on it.
 */
const trapped = new WeakMap<TargetAdapter, string>();

async function attempt(target: TargetAdapter, op: OpDef, id: string, inputs: Inputs, params: Params): Promise<{ got?: Outputs; error?: string; unsupported?: string }> {
  let answer: unknown;
  try {
    answer = await target.ops[op.name].run(inputs, params);
  } catch (e) {
    if (e instanceof Unsupported) return { unsupported: e.message }; // a program target said so (command.ts)
    if (e instanceof WebAssembly.RuntimeError && !trapped.has(target)) trapped.set(target, `${id} (${errorText(e)})`);
    return { error: `threw: ${errorText(e)}` };
  }
  try {
    return { got: adapterOutputs(target.name, op, id, answer) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export interface ConformanceOptions {
  ops?: string[];
  random?: number;
  seed?: string;
  shrink?: boolean;
  /** Cases drawn from each seeded probe family of the op (probes.ts). */
  probes?: number;
  /** Run exactly these cases (conformance --cases FILE) instead of the fixtures, probes and random cases. */
  cases?: RunCase[];
}

export async function runConformance(target: TargetAdapter, opts: ConformanceOptions = {}): Promise<Report> {
  await target.init?.();
  const outcomes: Outcome[] = [];
  const given = opts.cases;
  const names = given ? [...new Set(given.map((c) => c.op!))].filter((n) => !opts.ops || opts.ops.includes(n)) : Object.keys(target.ops).filter((n) => !opts.ops || opts.ops.includes(n));
  for (const name of names) {
    const op = getOp(name);
    const adapter = target.ops[name] ?? { unsupported: () => `${target.name} has no adapter for ${name}`, run: () => ({}) };
    for (const c of given ? given.filter((x) => x.op === name) : casesFor(op, opts.random ?? 6, opts.seed ?? '0', opts.probes ?? 6)) {
      const params = resolveParams(op, c.params);
      const region = regionOf(op, c.params);
      let reason: string | undefined;
      try {
        const r = adapter.unsupported?.(c.inputs, params);
        reason = r ? String(r) : undefined;
      } catch (e) {
        outcomes.push({ op: name, region, id: c.id, status: 'failed', worstUlp: Infinity, worstRel: Infinity, severity: Infinity, message: `${target.name} ${name} on case ${c.id}: the adapter's unsupported() threw: ${errorText(e)}` });
        continue;
      }
      const trap = trapped.get(target);
      if (!reason && trap) reason = `not run: ${target.name}'s WebAssembly instance trapped on ${trap} and cannot run more cases in this process (--ops runs the others alone)`;
      if (reason) {
        outcomes.push({ op: name, region, id: c.id, status: 'unsupported', reason });
        continue;
      }
      const want = op.reference(c.inputs, params);
      const r = await attempt(target, op, c.id, c.inputs, params);
      if (r.unsupported !== undefined) {
        outcomes.push({ op: name, region, id: c.id, status: 'unsupported', reason: r.unsupported });
        continue;
      }
      const verdict = r.got ? judge(op, c.inputs, params, want, r.got, target.precision) : { message: r.error!, worstUlp: Infinity, worstRel: Infinity, severity: Infinity };
      const o: Outcome = { op: name, region, id: c.id, status: verdict.message ? 'failed' : 'passed', worstUlp: verdict.worstUlp, worstRel: verdict.worstRel, severity: verdict.severity, message: verdict.message };
      if ('ambiguous' in verdict && verdict.ambiguous) o.ambiguous = verdict.ambiguous;
      if (verdict.message) Object.assign(o, await reproduce(target, op, c, params, verdict.severity, 'kind' in verdict ? verdict.kind : 'threw', opts.shrink ?? true));
      outcomes.push(o);
    }
  }
  try {
    await target.dispose?.();
  } catch {
    // a library that crashed (tfjs-wasm's "memory access out of bounds") may fail to free its
    // tensors too; the crash is already reported as the case's failure
  }
  const rows = new Map<string, Row>();
  for (const o of outcomes) {
    const key = `${o.op}\u0000${o.region}`;
    const row = rows.get(key) ?? { op: o.op, region: o.region, passed: 0, failed: 0, unsupported: 0, worstUlp: 0, worstRel: 0, worstRatio: 0, reasons: [] };
    row[o.status]++;
    if (o.worstUlp !== undefined && o.status !== 'unsupported') row.worstUlp = Math.max(row.worstUlp, o.worstUlp);
    if (o.worstRel !== undefined && o.status !== 'unsupported') row.worstRel = Math.max(row.worstRel, o.worstRel);
    if (o.severity !== undefined && o.status !== 'unsupported') row.worstRatio = Math.max(row.worstRatio, o.severity);
    if (o.reason && !row.reasons.includes(o.reason)) row.reasons.push(o.reason);
    rows.set(key, row);
  }
  return {
    target: target.name,
    description: target.description,
    precision: target.precision,
    rows: [...rows.values()],
    failures: outcomes.filter((o) => o.status === 'failed'),
    ambiguous: outcomes.filter((o) => o.ambiguous).map((o) => ({ id: o.id, why: o.ambiguous! })),
  };
}

/** How many values of a reproducer's note are printed (each in full precision). */
const NOTE_VALUES = 256;

/**
 * The failing case, shrunk where possible, as a case file with the reference's expected outputs.
 * A variant replaces the case only while it fails the same way (a throw, a missing output, a
 * wrong shape, a wrong non-finite value, wrong values) and its error stays at least SEVERITY_KEPT
 * of the original's (both × the allowance); the note says what the target gave, in full precision, and both errors.
 */
async function reproduce(target: TargetAdapter, op: OpDef, c: RunCase, params: Params, severity: number, kind: FailureKind, shrink: boolean): Promise<{ reproducer: Record<string, unknown>; shrunk?: { from: number; to: number } }> {
  const verdictOf = async (variant: Inputs): Promise<{ got?: Outputs; error?: string; want?: Outputs; severity: number; kind?: FailureKind } | undefined> => {
    let want: Outputs;
    try {
      want = op.reference(variant, params);
    } catch {
      return undefined; // a variant outside the op's domain
    }
    const r = await attempt(target, op, c.id, variant, params);
    if (r.unsupported !== undefined) return undefined; // a variant the target does not compute
    if (!r.got) return { ...r, want, severity: Infinity, kind: 'threw' };
    const v = judge(op, variant, params, want, r.got, target.precision);
    return { ...r, want, severity: v.message ? v.severity : 0, kind: v.message ? v.kind : undefined };
  };
  let inputs = c.inputs;
  if (shrink && !trapped.has(target)) {
    const small = await shrinkFailure(op, c.inputs, { kind, severity }, async (variant) => {
      const v = await verdictOf(variant);
      return v?.kind ? { kind: v.kind, severity: v.severity } : undefined;
    }, 2000);
    if (small) inputs = small;
  }
  const v = (await verdictOf(inputs))!;
  const shown = v.got ? stringify(Object.fromEntries(Object.entries(v.got).map(([k, a]) => [k, noteTensor(a)]))) : v.error;
  const err = (x: number) => `${timesAllowance(x)} the allowance`;
  const errors =
    inputs === c.inputs
      ? `error ${err(v.severity)}`
      : severity === Infinity
        ? `error ${err(v.severity)} (shrunk, failing the way the original case does)`
        : `error ${err(v.severity)} (the original case: ${err(severity)}; shrinking keeps ≥ ${100 * SEVERITY_KEPT} % of it)`;
  return {
    reproducer: {
      id: c.id.startsWith(`${target.name}/`) ? c.id : `${target.name}/${c.id}`, // a replayed reproducer (--cases) keeps its id
      op: op.name,
      inputs: encodeInputs(op, inputs),
      params: c.params,
      expected: encodeOutputs(op, v.want!),
      note: `${target.name} gives ${shown}; ${errors}`,
    },
    ...(inputs === c.inputs ? {} : { shrunk: { from: severity, to: v.severity } }),
  };
}

/** A tensor for a note: its shape and values in full precision (non-finite values as "NaN", "Infinity"). */
function noteTensor(a: Arr): { shape: number[]; data: (number | string)[]; more?: string } {
  const d = flat(a);
  const data = Array.from(d.subarray(0, NOTE_VALUES), encodeNumber);
  return d.length > NOTE_VALUES ? { shape: a.shape.slice(), data, more: `first ${NOTE_VALUES} of ${d.length} values` } : { shape: a.shape.slice(), data };
}

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>conformance: {{target}}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em}table{border-collapse:collapse}td,th{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:left}
tr.failed td{color:#a11}tr.unsupported td{color:#888}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em;border-radius:4px}</style></head><body>
<h1>{{target}}</h1><p>{{description}} — held to the {{precision}} error bound</p>
<table id="rows"><tr><th>op</th><th>region</th><th>passed</th><th>failed</th><th>unsupported</th><th>worst ULP</th><th>worst rel.</th><th>worst × allowance</th></tr>
{{#rows}}<tr class="{{cls}}"><td>{{op}}</td><td>{{region}}</td><td>{{passed}}</td><td>{{failed}}</td><td>{{unsupported}}</td><td>{{ulp}}</td><td>{{rel}}</td><td>{{ratio}}</td></tr>
{{/rows}}</table>
{{#failures.length}}<h2>Failures</h2>{{/failures.length}}
{{#failures}}<section class="failure"><h3>{{id}} <small>[{{region}}]</small></h3><p>{{severity}}</p><pre>{{message}}</pre><p>Reproducing case:</p><pre>{{case}}</pre></section>
{{/failures}}</body></html>`;

export function reportHtml(r: Report): string {
  return Mustache.render(HTML, {
    ...r,
    rows: r.rows.map((w) => ({ ...w, cls: w.failed ? 'failed' : w.passed ? 'passed' : 'unsupported', ulp: w.passed + w.failed ? num(w.worstUlp) : '', rel: w.passed + w.failed ? num(w.worstRel) : '', ratio: w.passed + w.failed ? ratio(w.worstRatio) : '' })),
    failures: r.failures.map((f) => ({ ...f, severity: severityText(f), case: f.reproducer ? stringify(f.reproducer) : '' })),
  });
}

/** A row's worst error × its allowance: ≤ 1 passes. */
const ratio = (x: number) => (x === Infinity ? '∞' : x === 0 ? '0' : String(Number(x.toPrecision(2))));

/** A failure's error × its allowance, and the original's when its case was shrunk. */
const severityText = (f: Outcome): string =>
  f.severity === undefined || f.severity === Infinity ? '' : `error ${timesAllowance(f.severity)} the allowance` + (f.shrunk ? ` (shrunk case: ${timesAllowance(f.shrunk.to)})` : '');

const num = (x: number) => (!Number.isFinite(x) ? '—' : x === 0 ? '0' : x < 1e-3 ? x.toExponential(1) : String(Math.round(x * 1000) / 1000));

export function reportText(r: Report, markdown = false): string {
  const head = ['op', 'region', 'passed', 'failed', 'unsupported', 'worst ULP', 'worst rel.', 'worst × allowance'];
  const body = r.rows.map((w) => [w.op, w.region, String(w.passed), String(w.failed), String(w.unsupported), w.passed + w.failed ? num(w.worstUlp) : '', w.passed + w.failed ? num(w.worstRel) : '', w.passed + w.failed ? ratio(w.worstRatio) : '']);
  const lines: string[] = [];
  if (markdown) {
    lines.push(`### ${r.target}: ${r.description} (${r.precision})`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((b) => `| ${b.join(' | ')} |`));
  } else {
    const w = head.map((_, i) => Math.max(...[head, ...body].map((b) => b[i].length)));
    lines.push(`${r.target}: ${r.description} (held to the ${r.precision} error bound)`, head.map((h, i) => h.padEnd(w[i])).join('  '), ...body.map((b) => b.map((v, i) => v.padEnd(w[i])).join('  ')));
  }
  const unsupported = r.rows.filter((w) => w.reasons.length);
  if (unsupported.length) lines.push('', markdown ? '**Unsupported:**' : 'unsupported:', ...unsupported.map((w) => `${markdown ? '- ' : '  '}${w.op} (${w.region}): ${w.reasons.join('; ')}`));
  if (r.ambiguous?.length) {
    lines.push('', markdown ? '**Ambiguous** (passed on an outcome rounding may flip to):' : 'ambiguous (passed on an outcome rounding may flip to):');
    for (const a of r.ambiguous) lines.push(`${markdown ? '- ' : '  '}${a.id}: ${a.why}`);
  }
  if (r.failures.length) {
    lines.push('', markdown ? '**Failures** (each with a reproducing case):' : 'failures (each with a reproducing case):');
    for (const f of r.failures) {
      lines.push(`${markdown ? '- ' : '  '}${f.id} [${f.region}]: ${severityText(f) ? severityText(f) + ': ' : ''}${(f.message ?? '').split('\n')[0]}`);
      if (f.reproducer) lines.push(markdown ? `  \`\`\`json\n  ${stringify(f.reproducer)}\n  \`\`\`` : `    ${stringify(f.reproducer)}`);
    }
  }
  return lines.join('\n') + '\n';
}

