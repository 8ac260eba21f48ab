/** Runs ops through the registry exactly as `eval` does (params validated, defaults filled). */
import { getOp, resolveInputs, resolveParams, fromData, type Arr, type Outputs } from '../../src/index.js';

export type Flat = { shape: number[]; data: number[] } | Arr;

const toArr = (t: Flat): Arr => ('get' in t ? (t as Arr) : fromData(t.data, t.shape));

export function run(op: string, inputs: Record<string, Flat>, params: Record<string, unknown> = {}): Outputs {
  const def = getOp(op);
  const ins = resolveInputs(def, Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, { dtype: def.inputs.find((s) => s.name === k)?.kind === 'index' ? 'int64' : 'float64', array: toArr(v) }])) as never);
  return def.reference(ins, resolveParams(def, params));
}

export const y = (op: string, inputs: Record<string, Flat>, params: Record<string, unknown> = {}, out = 'y'): number[] =>
  Array.from(run(op, inputs, params)[out].data);

export const t = (shape: number[], data: number[]) => ({ shape, data });
export const range = (n: number, start = 0) => Array.from({ length: n }, (_, i) => i + start);

/** Expect an OracleError with this path and message fragment. */
export function errorOf(f: () => unknown): { code: string; path: string; message: string } {
  try {
    f();
  } catch (e) {
    const err = e as { code: string; path: string; message: string };
    return { code: err.code, path: err.path, message: err.message };
  }
  throw new Error('expected an error');
}
