/**
 * Reading case files and running cases: the engine behind `eval` and `check` (shared/spec/cases.md).
 */
import { readFileSync } from 'node:fs';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { OracleError, ptr } from './errors.js';
import { backendsOf, getOp, kernelOf, resolveInputs, resolveParams, type Backend, type Inputs, type OpDef, type Outputs, type Precision } from './registry.js';

export type { Backend } from './registry.js';
import { validateCase } from './schemas.js';
import { checkJson } from './validate.js';
import { decodeTensor, encodeTensor, fromData, type Arr, type DType, type Tensor, type TensorJSON } from './tensor.js';
import { admissibleMatch, compareArrays, defaultAllowance, describeMismatch, toleranceAllowance, unitRoundoff, type Mismatch, type Tolerance } from './judge/index.js';
import { flat } from './reference/common.js';
import './ops/index.js';

export interface CaseJSON {
  id?: string;
  op: string;
  inputs?: Record<string, TensorJSON>;
  params?: Record<string, unknown>;
  expected?: Record<string, TensorJSON>;
  tolerance?: Tolerance;
  tags?: string[];
  note?: string;
}

/** One entry of a case file: the parsed value, or why its line could not be parsed. */
export interface RawCase {
  value?: unknown;
  error?: OracleError;
  /** Where it came from, for messages: "#3" or "line 4". */
  where: string;
  index: number;
}


export interface EvalResult {
  id: string;
  op: string;
  outputs?: Record<string, TensorJSON>;
  error?: { code: string; message: string; path: string };
}

/** Thrown for a file that cannot be read or parsed as a whole (exit status 2). */
export class FileError extends Error {}

function positionToLineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `line ${line}, column ${col}`;
}

/** Why and where JSON.parse failed, located by jsonc-parser's error-tolerant scanner. */
function jsonError(text: string, e: unknown): string {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length) return `${printParseErrorCode(errors[0].error).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} at ${positionToLineCol(text, errors[0].offset)}`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Parses a case file: one case, a JSON array of cases, or JSON Lines. JSON Lines is used for
 * `.jsonl` files, and for other text that is not one JSON value but whose first line is; each
 * line then stands alone (a bad line is an error for that case only).
 */
export function parseCases(text: string, name: string): RawCase[] {
  const isJsonl = name.endsWith('.jsonl');
  if (!isJsonl) {
    try {
      const v: unknown = JSON.parse(text);
      if (Array.isArray(v)) return v.map((value, index) => ({ value, index, where: `#${index}` }));
      return [{ value: v, index: 0, where: '#0' }];
    } catch (e) {
      const first = text.split('\n').find((l) => l.trim() !== '');
      let firstOk = false;
      try {
        if (first !== undefined && first.trim() !== text.trim()) {
          JSON.parse(first);
          firstOk = true;
        }
      } catch {
        /* not JSON Lines either */
      }
      if (!firstOk) {
        if (text.trim() === '') throw new FileError(`${name}: the file is empty (expected a case, an array of cases, or JSON Lines)`);
        throw new FileError(`${name}: not valid JSON: ${jsonError(text, e)}`);
      }
    }
  }
  const out: RawCase[] = [];
  text.split('\n').forEach((line, lineNo) => {
    if (line.trim() === '') return;
    const index = out.length;
    const where = `line ${lineNo + 1}`;
    try {
      out.push({ value: JSON.parse(line), index, where });
    } catch (e) {
      out.push({ index, where, error: new OracleError('INVALID_JSON', `${name} ${where}: not valid JSON: ${jsonError(line, e)}`, '') });
    }
  });
  if (out.length === 0) throw new FileError(`${name}: the file holds no cases`);
  return out;
}

/** Reads a case file; `-` is standard input (`stdin` gives its text; default: file descriptor 0). */
export function readCaseFile(file: string, stdin: () => string = () => readFileSync(0, 'utf8')): RawCase[] {
  let text: string;
  try {
    text = file === '-' ? stdin() : readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String((e as Error).message);
    throw new FileError(`${file === '-' ? 'standard input' : file}: cannot read: ${why}`);
  }
  return parseCases(text, file === '-' ? 'standard input' : file);
}

/** A validated case, ready to run. */
export interface PreparedCase {
  id: string;
  op: OpDef;
  inputs: Record<string, Arr>;
  params: Record<string, unknown>;
  raw: CaseJSON;
}

function caseId(raw: unknown, index: number): string {
  if (raw && typeof raw === 'object' && typeof (raw as CaseJSON).id === 'string') return (raw as CaseJSON).id!;
  return `#${index}`;
}

function caseOp(raw: unknown): string {
  return raw && typeof raw === 'object' && typeof (raw as CaseJSON).op === 'string' ? (raw as CaseJSON).op : '';
}

export function decodeTensors(map: Record<string, TensorJSON> | undefined, field: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(map ?? {})) {
    try {
      out[name] = decodeTensor(t);
    } catch (e) {
      if (e instanceof OracleError) throw e.under(ptr(field, name));
      throw e;
    }
  }
  return out;
}

/** Validates a case (structure, op, tensors, inputs, params). Throws OracleError. */
export function prepareCase(raw: unknown, index: number): PreparedCase {
  checkJson(raw);
  validateCase(raw);
  const c = raw as CaseJSON;
  const op = getOp(c.op);
  const inputs = resolveInputs(op, decodeTensors(c.inputs, 'inputs'));
  const params = resolveParams(op, c.params);
  return { id: caseId(raw, index), op, inputs, params, raw: c };
}

export async function runOp(op: OpDef, inputs: PreparedCase['inputs'], params: PreparedCase['params'], backend: Backend): Promise<Outputs> {
  if (backend === 'reference') return op.reference(inputs, params);
  const run = kernelOf(op, backend);
  if (!run) throw new OracleError('UNSUPPORTED', `${op.name} has no ${backend} implementation (its backends: ${backendsOf(op).join(', ')})`, '/op');
  return await run(inputs, params);
}

/** The wire dtype of an input: int64 for index inputs and for rank-1 class targets, else float64. */
export function inputDtype(op: OpDef, name: string, rank: number): DType {
  const spec = op.inputs.find((s) => s.name === name);
  return spec?.kind === 'index' || (spec?.kind === 'floatOrIndex' && rank === 1) ? 'int64' : 'float64';
}

export function encodeInputs(op: OpDef, inputs: Inputs): Record<string, TensorJSON> {
  return Object.fromEntries(Object.entries(inputs).map(([k, a]) => [k, encodeTensor(a, inputDtype(op, k, a.shape.length))]));
}

export function encodeOutputs(op: OpDef, outputs: Outputs): Record<string, TensorJSON> {
  const out: Record<string, TensorJSON> = {};
  for (const spec of op.outputs) {
    const a = outputs[spec.name];
    if (a) out[spec.name] = encodeTensor(a, spec.dtype ?? 'float64');
  }
  return out;
}

function asErrorJSON(e: unknown): { code: string; message: string; path: string } {
  if (e instanceof OracleError) return e.toJSON();
  const msg = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', message: `internal error: ${msg}`, path: '' };
}

/** Evaluates one raw case; never throws. */
export async function evaluateRaw(rc: RawCase, backend: Backend): Promise<{ result: EvalResult; prepared?: PreparedCase; outputs?: Outputs }> {
  const id = caseId(rc.value, rc.index);
  const opName = caseOp(rc.value);
  if (rc.error) return { result: { id, op: opName, error: asErrorJSON(rc.error) } };
  try {
    const prepared = prepareCase(rc.value, rc.index);
    const outputs = await runOp(prepared.op, prepared.inputs, prepared.params, backend);
    return { result: { id, op: opName, outputs: encodeOutputs(prepared.op, outputs) }, prepared, outputs };
  } catch (e) {
    return { result: { id, op: opName, error: asErrorJSON(e) } };
  }
}

export interface CheckResult {
  id: string;
  op: string;
  ok: boolean;
  /** One line (or a few) saying what went wrong. */
  message?: string;
  mismatches?: Record<string, Mismatch>;
  /** Passed on an admissible alternative (a decision rounding may flip): why the case is ambiguous. */
  ambiguous?: string;
}

/** At float32 the output itself is rounded once more (as the grader's allowance: a float32 max of float64 inputs). */
function withOutputRounding(a: Outputs, outputs: Outputs, precision: Precision): Outputs {
  if (precision !== 'float32') return a;
  const u = 2 ** -24;
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, outputs[k] ? fromData(flat(v).map((x, i) => x + u * Math.abs(flat(outputs[k])[i])), v.shape) : v]));
}

/** Runs a case and compares its outputs with `expected`. Never throws. */
export async function checkRaw(rc: RawCase, backend: Backend, judgedAt?: Precision): Promise<CheckResult> {
  const { result, prepared, outputs } = await evaluateRaw(rc, backend);
  const base = { id: result.id, op: result.op };
  if (result.error) return { ...base, ok: false, message: `error ${result.error.code}${result.error.path ? ' at ' + result.error.path : ''}: ${result.error.message}` };
  const raw = prepared!.raw;
  if (!raw.expected || Object.keys(raw.expected).length === 0) return { ...base, ok: false, message: 'the case has no expected outputs to check against' };
  let expected: Record<string, Tensor>;
  try {
    expected = decodeTensors(raw.expected, 'expected');
  } catch (e) {
    return { ...base, ok: false, message: `error ${asErrorJSON(e).code} at ${asErrorJSON(e).path}: ${asErrorJSON(e).message}` };
  }
  const precision: Precision = judgedAt ?? (backend === 'reference' ? 'float64' : 'float32');
  const allowance = raw.tolerance ? null : withOutputRounding(defaultAllowance(prepared!.op, prepared!.inputs, prepared!.params, outputs!, precision), outputs!, precision);
  const mismatches: Record<string, Mismatch> = {};
  const problems: string[] = [];
  for (const [name, exp] of Object.entries(expected)) {
    const got = outputs![name];
    if (!got) {
      problems.push(`${name}: the op produced no output named ${name} (outputs: ${Object.keys(outputs!).join(', ')})`);
      continue;
    }
    const spec = prepared!.op.outputs.find((o) => o.name === name);
    const exact = spec?.dtype === 'int64';
    const allowed = exact
      ? () => 0
      : raw.tolerance
        ? toleranceAllowance(raw.tolerance)
        : ((a: Float64Array) => (i: number) => a[i])(flat(allowance![name]));
    const m = compareArrays(got, exp.array, allowed);
    mismatches[name] = m;
    if (!m.ok) problems.push(describeMismatch(name, m));
  }
  if (problems.length) {
    const allowedFor = (name: string) =>
      raw.tolerance ? toleranceAllowance(raw.tolerance) : allowance?.[name] ? ((a: Float64Array) => (i: number) => a[i] ?? 0)(flat(allowance[name])) : () => 0;
    // the claim under test is the case's expected values: admissible when they equal an outcome rounding may flip to
    const claimed = Object.fromEntries(Object.entries(expected).map(([k, t]) => [k, t.array]));
    const why = admissibleMatch(prepared!.op, prepared!.inputs, prepared!.params, unitRoundoff(precision), { ...outputs!, ...claimed }, allowedFor);
    if (why) return { ...base, ok: true, mismatches, ambiguous: why };
    return { ...base, ok: false, message: problems.join('\n'), mismatches };
  }
  return { ...base, ok: true, mismatches };
}
