/**
 * Tensors on the grading protocol's wire. Two forms:
 * - JSON, as in shared/spec/cases.md: `{"shape", "dtype", "data": [numbers, "NaN", "Infinity", …]}`;
 * - binary (a cnn-oracle extension of the protocol): `{"shape", "dtype", "base64"}`, the
 *   little-endian bytes of the dtype, base64-encoded: float64 8 bytes (IEEE 754 binary64),
 *   float32 4, int64 8 (two's complement), int32 4, bool 1 (0 or 1).
 * A program may use the binary form once the grader's hello request lists it (see protocol.ts).
 *
 * This file is shared by the grader and the runner inside the sandbox, so it imports nothing:
 * the runner's folder must hold no reference, fixture or mistake. The Buffer methods are captured
 * when the module loads, before any submission code runs, so a submission that patches them later
 * cannot change how its answers or its inputs are encoded.
 */
export type WireDType = 'float64' | 'float32' | 'int64' | 'int32' | 'bool';
export const WIRE_DTYPES: readonly WireDType[] = ['float64', 'float32', 'int64', 'int32', 'bool'];

export interface JsonTensor {
  shape: number[];
  dtype?: WireDType;
  data: (number | string | boolean)[];
}
export interface BinaryTensor {
  shape: number[];
  dtype?: WireDType;
  base64: string;
}
export type WireTensor = JsonTensor | BinaryTensor;

export const BYTES: Record<WireDType, number> = { float64: 8, float32: 4, int64: 8, int32: 4, bool: 1 };

const B = globalThis.Buffer;
const alloc = B.alloc.bind(B) as (n: number) => Buffer;
const proto = B.prototype as unknown as { base64Slice(this: Buffer, s: number, e: number): string; base64Write(this: Buffer, s: string, o: number, n: number): number };
const base64Slice = proto.base64Slice;
const base64Write = proto.base64Write;
const F64 = Float64Array;
const F32 = Float32Array;
const I32 = Int32Array;
const I64 = BigInt64Array;
const U8 = Uint8Array;
const toBig = BigInt;
const toNum = Number;

/** The values as the bytes of `dtype`, base64-encoded. Integers must fit the dtype. */
export function toBase64(values: ArrayLike<number>, dtype: WireDType): string {
  const n = values.length;
  const buf = alloc(n * BYTES[dtype]);
  const ab = buf.buffer;
  const off = buf.byteOffset;
  if (dtype === 'float64') {
    const v = new F64(ab, off, n);
    for (let i = 0; i < n; i++) v[i] = values[i];
  } else if (dtype === 'float32') {
    const v = new F32(ab, off, n);
    for (let i = 0; i < n; i++) v[i] = values[i];
  } else if (dtype === 'int32') {
    const v = new I32(ab, off, n);
    for (let i = 0; i < n; i++) v[i] = values[i];
  } else if (dtype === 'int64') {
    const v = new I64(ab, off, n);
    for (let i = 0; i < n; i++) v[i] = toBig(values[i]);
  } else {
    const v = new U8(ab, off, n);
    for (let i = 0; i < n; i++) v[i] = values[i] ? 1 : 0;
  }
  return base64Slice.call(buf, 0, buf.length);
}

/** The bytes of a whole ArrayBuffer view (e.g. an input's Float64Array), base64-encoded. */
export function bytesToBase64(view: ArrayBufferView): string {
  const buf = alloc(view.byteLength);
  new U8(buf.buffer, buf.byteOffset, view.byteLength).set(new U8(view.buffer, view.byteOffset, view.byteLength));
  return base64Slice.call(buf, 0, buf.length);
}

/** Decodes `n` values of `dtype` from base64; throws an Error saying what is wrong. */
export function fromBase64(text: string, dtype: WireDType, n: number): Float64Array {
  if (typeof text !== 'string') throw new Error('base64 must be a string');
  const bytes = n * BYTES[dtype];
  // base64 of `bytes` bytes has exactly 4·⌈bytes/3⌉ characters (with padding)
  const expectedChars = 4 * Math.ceil(bytes / 3);
  if (text.length !== expectedChars) throw new Error(`base64 holds ${text.length} characters, but ${n} values of ${dtype} need ${expectedChars}`);
  const buf = alloc(bytes + 3);
  const written = base64Write.call(buf, text, 0, buf.length);
  if (written !== bytes) throw new Error(`base64 decodes to ${written} bytes, but ${n} values of ${dtype} need ${bytes}`);
  const ab = buf.buffer;
  const off = buf.byteOffset;
  const out = new F64(n);
  // copy into an aligned buffer first: the pool slice may be unaligned
  const aligned = new U8(bytes);
  aligned.set(new U8(ab, off, bytes));
  const a = aligned.buffer;
  if (dtype === 'float64') out.set(new F64(a, 0, n));
  else if (dtype === 'float32') out.set(new F32(a, 0, n));
  else if (dtype === 'int32') out.set(new I32(a, 0, n));
  else if (dtype === 'int64') {
    const v = new I64(a, 0, n);
    for (let i = 0; i < n; i++) out[i] = toNum(v[i]);
  } else {
    const v = new U8(a, 0, n);
    for (let i = 0; i < n; i++) out[i] = v[i];
  }
  return out;
}

const NONFINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** One JSON wire value as a number (non-finite values are strings). */
export function jsonNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v in NONFINITE) return NONFINITE[v];
  if (typeof v === 'boolean') return v ? 1 : 0;
  return NaN;
}

/** The JSON wire value of a number: non-finite values as strings. */
export function jsonValue(x: number): number | string {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}
