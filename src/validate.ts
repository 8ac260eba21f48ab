/**
 * The one validation path. Everything a case can say is checked here or by the op's own
 * `validate` hook, before any backend (the reference, simd, gpu.js) or backward op runs:
 *
 * - the JSON itself (`checkJson`): nesting depth, no `__proto__` / `constructor` / `prototype`
 *   keys (JSON.parse keeps them as own keys, and assigning one to an object silently changes its
 *   prototype instead), no number that overflowed to ±Infinity when parsed (`1e400`);
 * - the inputs (`checkCall`): no zero-length axis except where the op allows an empty list (boxes),
 *   each tensor within the element budget;
 * - the op's `validate(inputs, params)`: shapes against each other and against the params, output
 *   sizes and work within the budget (`charge`), values that decide control flow (box coordinates).
 *
 * The budget keeps a tiny case from allocating past memory or looping for hours: every output is at
 * most `maxElements` values (default 2²⁶ = 67,108,864, 512 MiB as float64) and a case at most
 * `maxWork` inner-loop steps (default 2³⁰ ≈ 1.07·10⁹, about a minute of the exact reference). Raise them
 * with `--max-elements` / `--max-work` or CNN_ORACLE_MAX_ELEMENTS / CNN_ORACLE_MAX_WORK.
 */
import { OracleError, ptr } from './errors.js';

export interface Budget {
  maxElements: number;
  maxWork: number;
}

export const DEFAULT_BUDGET: Readonly<Budget> = { maxElements: 2 ** 26, maxWork: 2 ** 30 };

function fromEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new OracleError('INVALID_CASE', `${name}=${v} must be a positive integer`, '');
  return n;
}

let budget: Budget | undefined;

export function getBudget(): Budget {
  budget ??= { maxElements: fromEnv('CNN_ORACLE_MAX_ELEMENTS', DEFAULT_BUDGET.maxElements), maxWork: fromEnv('CNN_ORACLE_MAX_WORK', DEFAULT_BUDGET.maxWork) };
  return budget;
}

export function setBudget(b: Partial<Budget>): void {
  budget = { ...getBudget(), ...b };
}

/** Back to the default (or the environment's) budget: each CLI run in one process starts from it. */
export function resetBudget(): void {
  budget = undefined;
}

const fmt = (n: number): string => (Number.isFinite(n) && n < 1e15 ? Math.round(n).toLocaleString('en-US') : n.toExponential(2));

/** Throws TOO_LARGE (naming `path`) when a tensor of `shape` would exceed the element budget. */
export function chargeElements(shape: readonly number[], what: string, path: string): void {
  let n = 1;
  for (const d of shape) n *= d;
  if (!(n <= getBudget().maxElements)) {
    throw new OracleError(
      'TOO_LARGE',
      `${what} would have ${fmt(n)} values (shape [${shape.map(fmt).join(', ')}]), more than the budget of ${fmt(getBudget().maxElements)}; --max-elements raises it`,
      path,
    );
  }
}

/** Throws TOO_LARGE (naming `path`) when `steps` inner-loop steps exceed the work budget. */
export function chargeWork(steps: number, what: string, path: string): void {
  if (!(steps <= getBudget().maxWork)) {
    throw new OracleError('TOO_LARGE', `${what} takes ${fmt(steps)} steps, more than the work budget of ${fmt(getBudget().maxWork)}; --max-work raises it`, path);
  }
}

export const MAX_DEPTH = 64;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Walks a parsed JSON value without recursion. Throws INVALID_CASE naming the first offending
 * field: nesting deeper than MAX_DEPTH, a forbidden key, a non-finite number.
 */
export function checkJson(value: unknown, base = ''): void {
  const stack: [unknown, string, number][] = [[value, base, 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) {
        throw new OracleError('INVALID_CASE', `${path || 'the value'} is a number too large for float64 (it parses as ${v})${/\/data\/\d+$/.test(path) ? '; write "Infinity" or "-Infinity" if you mean it' : ''}`, path);
      }
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) {
      const short = path.length > 60 ? path.slice(0, 60) + '…' : path;
      throw new OracleError('INVALID_CASE', `${short || 'the value'} is nested more than ${MAX_DEPTH} levels deep`, path);
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const e: unknown = v[i];
        if (typeof e === 'number') {
          if (!Number.isFinite(e)) stack.push([e, `${path}/${i}`, depth + 1]);
        } else if (e !== null && typeof e === 'object') stack.push([e, `${path}/${i}`, depth + 1]);
      }
      continue;
    }
    for (const k of Object.keys(v)) {
      const p = path + ptr(k);
      if (FORBIDDEN_KEYS.has(k)) throw new OracleError('INVALID_CASE', `${p}: the key ${JSON.stringify(k)} is not allowed (it names an object's prototype in JavaScript)`, p);
      stack.push([(v as Record<string, unknown>)[k], p, depth + 1]);
    }
  }
}

/** An output of `shape` whose every value takes `taps` inner-loop steps: both within the budget. */
export function chargeOutput(shape: readonly number[], taps: number, what: string, path: string): void {
  chargeElements(shape, what, path);
  chargeWork(shape.reduce((a, b) => a * b, 1) * taps, what, path);
}
