/**
 * The tensor model: a scijs `ndarray` over a Float64Array (contiguous, row-major, NCHW) plus its
 * dtype, and the JSON encoding of shared/spec/cases.md.
 *
 * Every dtype is held in a Float64Array: int64/int32 values as exact integers (|v| ≤ 2⁵³ − 1),
 * bool as 0/1, float32 as the float64 value of the float32 number. The reference works on the
 * exact values and computes in float64.
 */
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import ops from 'ndarray-ops';
import { OracleError } from './errors.js';

export type Arr = NdArray<Float64Array>;
/** Any numeric ndarray a user may hand in. */
export type AnyArr = NdArray<Float64Array | Float32Array | Int32Array | number[]>;
export const DTYPES = ['float64', 'float32', 'int64', 'int32', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

export interface Tensor {
  dtype: DType;
  array: Arr;
}

export interface TensorJSON {
  shape: number[];
  dtype?: DType;
  data: (number | string | boolean)[];
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A new zero-filled contiguous array. */
export function zeros(shape: readonly number[]): Arr {
  return ndarray(new Float64Array(numel(shape)), shape.slice());
}

/** Wraps flat row-major data (not copied). */
export function fromData(data: Float64Array | readonly number[], shape: readonly number[]): Arr {
  const d = data instanceof Float64Array ? data : Float64Array.from(data);
  if (d.length !== numel(shape)) {
    throw new OracleError('INVALID_TENSOR', `data has ${d.length} values but shape [${shape.join(', ')}] needs ${numel(shape)}`);
  }
  return ndarray(d, shape.slice());
}

/** A contiguous row-major copy of any ndarray (views included). */
export function contiguous(a: AnyArr): Arr {
  const out = ndarray(new Float64Array(numel(a.shape)), a.shape.slice());
  // ndarray-ops walks any strided view (its compiled loops follow the view's own strides)
  if (out.size > 0) ops.assign(out, a as NdArray);
  return out;
}

/** True when the array is laid out contiguously in row-major order from offset 0. */
export function isContiguous(a: AnyArr): boolean {
  if (a.offset !== 0) return false;
  let s = 1;
  for (let k = a.shape.length - 1; k >= 0; k--) {
    if (a.shape[k] !== 1 && a.stride[k] !== s) return false;
    s *= a.shape[k];
  }
  return a.data.length === s;
}

const NONFINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** Decodes one tensor of cases.md. Errors name the JSON path relative to the tensor. */
export function decodeTensor(json: unknown): Tensor {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new OracleError('INVALID_TENSOR', 'a tensor must be an object {shape, dtype, data}', '');
  }
  const t = json as Record<string, unknown>;
  const shape = t.shape;
  if (!Array.isArray(shape)) throw new OracleError('INVALID_TENSOR', 'shape must be an array of non-negative integers', '/shape');
  shape.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new OracleError('INVALID_TENSOR', `shape[${i}] must be a non-negative integer, got ${JSON.stringify(d)}`, `/shape/${i}`);
    }
  });
  const dtype = (t.dtype ?? 'float64') as DType;
  if (!DTYPES.includes(dtype)) {
    throw new OracleError('INVALID_TENSOR', `dtype must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(t.dtype)}`, '/dtype');
  }
  const data = t.data;
  if (!Array.isArray(data)) throw new OracleError('INVALID_TENSOR', 'data must be a flat array', '/data');
  const n = numel(shape as number[]);
  if (data.length !== n) {
    throw new OracleError('INVALID_TENSOR', `data has ${data.length} values but shape [${shape.join(', ')}] needs ${n}`, '/data');
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = decodeValue(data[i], dtype, i);
  return { dtype, array: ndarray(out, (shape as number[]).slice()) };
}

function decodeValue(v: unknown, dtype: DType, i: number): number {
  const path = `/data/${i}`;
  let x: number;
  if (typeof v === 'number') x = v;
  else if (typeof v === 'string' && v in NONFINITE) x = NONFINITE[v];
  else if (typeof v === 'boolean' && dtype === 'bool') return v ? 1 : 0;
  else {
    throw new OracleError('INVALID_TENSOR', `data[${i}] must be a number or one of "NaN", "Infinity", "-Infinity", "-0"; got ${JSON.stringify(v)}`, path);
  }
  switch (dtype) {
    case 'float64':
      return x;
    case 'float32':
      return Math.fround(x); // values are read as the nearest float32, as a framework would store them
    case 'int64':
    case 'int32': {
      if (!Number.isInteger(x)) throw new OracleError('INVALID_TENSOR', `data[${i}] must be an integer for dtype ${dtype}, got ${JSON.stringify(v)}`, path);
      if (!Number.isSafeInteger(x)) throw new OracleError('INVALID_TENSOR', `data[${i}] = ${x} is outside the exactly representable integer range ±(2^53 − 1)`, path);
      if (dtype === 'int32' && (x < -2147483648 || x > 2147483647)) throw new OracleError('INVALID_TENSOR', `data[${i}] = ${x} does not fit in int32`, path);
      return x === 0 ? 0 : x;
    }
    case 'bool':
      if (x !== 0 && x !== 1) throw new OracleError('INVALID_TENSOR', `data[${i}] must be true, false, 0 or 1 for dtype bool`, path);
      return x;
  }
}

/** The JSON value of one number: shortest round-trip form, strings for non-finite values, -0 kept. */
export function encodeNumber(x: number): number | string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x; // -0 stays a number: `stringify` prints it as -0.0

}

export function encodeTensor(a: AnyArr, dtype: DType = 'float64'): TensorJSON {
  const c = isContiguous(a) ? (a as Arr) : contiguous(a);
  const data: (number | string | boolean)[] = new Array(c.data.length);
  for (let i = 0; i < c.data.length; i++) {
    const x = c.data[i];
    data[i] = dtype === 'bool' ? x !== 0 : encodeNumber(dtype === 'float32' ? Math.fround(x) : x);
  }
  return { shape: c.shape.slice(), dtype, data };
}

/**
 * JSON text in which numbers are printed in JavaScript's shortest round-trip form and negative
 * zero as `-0.0` (JSON.stringify would print it as `0`). Everything else as JSON.stringify.
 */
export function stringify(value: unknown): string {
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return '-0.0';
    if (!Number.isFinite(value)) return JSON.stringify(encodeNumber(value));
    return String(value);
  }
  if (Array.isArray(value)) return '[' + value.map((v) => (v === undefined ? 'null' : stringify(v))).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return stringify((value as { toJSON: () => unknown }).toJSON());
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      parts.push(JSON.stringify(k) + ':' + stringify(v));
    }
    return '{' + parts.join(',') + '}';
  }
  return JSON.stringify(value);
}

export function shapeString(shape: readonly number[]): string {
  return '[' + shape.join(', ') + ']';
}
