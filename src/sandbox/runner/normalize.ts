/**
 * Turning whatever a JS submission returns into tensors: an ndarray, a nested number array,
 * `{shape, data}`, a typed array (1-D), a number (a scalar), or for several outputs an object
 * keyed by output name. Throws an Error whose message tells the student what was wrong.
 */
import type { WireDType } from './wire.js';

type Any = unknown;
type DType = WireDType;

/** A returned tensor before it goes on the wire: its shape, dtype and values in row-major order. */
export interface Plain {
  shape: number[];
  dtype: DType;
  values: number[];
}

const KNOWN = new Set(['float64', 'float32', 'int64', 'int32', 'bool']);

const isTyped = (v: Any): v is ArrayLike<number> & { constructor: { name: string } } => ArrayBuffer.isView(v) && !(v instanceof DataView);

function dtypeOfData(d: Any): DType {
  const name = (d as { constructor?: { name?: string } })?.constructor?.name;
  if (name === 'Float32Array') return 'float32';
  if (name === 'Int32Array' || name === 'Int16Array' || name === 'Int8Array' || name === 'Uint8Array' || name === 'Uint16Array') return 'int32';
  if (name === 'BigInt64Array') return 'int64';
  return 'float64';
}

function isNdarray(v: Any): v is { shape: number[]; stride: number[]; offset: number; data: ArrayLike<number>; dtype?: string } {
  return !!v && typeof v === 'object' && Array.isArray((v as { shape?: unknown }).shape) && Array.isArray((v as { stride?: unknown }).stride) && 'data' in (v as object);
}

function num(v: Any, where: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new Error(`${where} is ${v === null ? 'null' : typeof v}, not a number`);
}

/** Shape of a nested array, checking it is rectangular. */
function nestedShape(a: Any, where: string): number[] {
  if (!Array.isArray(a) && !isTyped(a)) return [];
  const arr = a as ArrayLike<Any>;
  if (arr.length === 0) return [0];
  const inner = nestedShape(arr[0], where + '[0]');
  for (let i = 1; i < arr.length; i++) {
    const s = nestedShape(arr[i], `${where}[${i}]`);
    if (s.length !== inner.length || s.some((d, k) => d !== inner[k])) throw new Error(`${where} is a ragged nested array (row ${i} has shape [${s}] but row 0 has [${inner}])`);
  }
  return [arr.length, ...inner];
}

function flatten(a: Any, out: number[], where: string): void {
  if (Array.isArray(a) || isTyped(a)) {
    const arr = a as ArrayLike<Any>;
    for (let i = 0; i < arr.length; i++) flatten(arr[i], out, where);
  } else out.push(num(a, where));
}

/** One output value → tensor JSON. */
export function toTensor(v: Any, name: string): Plain {
  const where = `output ${name}`;
  if (typeof v === 'number' || typeof v === 'bigint') return { shape: [], dtype: 'float64', values: [num(v, where)] };
  if (isNdarray(v)) {
    const shape = v.shape.slice();
    const data: number[] = [];
    const idx = new Array<number>(shape.length).fill(0);
    const total = shape.reduce((x, y) => x * y, 1);
    for (let i = 0; i < total; i++) {
      let off = v.offset ?? 0;
      for (let k = 0; k < idx.length; k++) off += v.stride[k] * idx[k];
      data.push(num((v.data as ArrayLike<Any>)[off], where));
      for (let k = idx.length - 1; k >= 0; k--) {
        if (++idx[k] < shape[k]) break;
        idx[k] = 0;
      }
    }
    const dtype = v.dtype === 'float32' ? 'float32' : v.dtype && /^u?int/.test(v.dtype) ? 'int32' : dtypeOfData(v.data);
    return { shape, dtype, values: data };
  }
  if (v && typeof v === 'object' && !Array.isArray(v) && !isTyped(v) && 'shape' in v && 'data' in v) {
    const t = v as { shape: Any; data: Any; dtype?: Any };
    if (!Array.isArray(t.shape)) throw new Error(`${where}: shape must be an array`);
    const data: number[] = [];
    flatten(t.data, data, where);
    const n = (t.shape as number[]).reduce((x, y) => x * y, 1);
    if (data.length !== n) throw new Error(`${where}: data has ${data.length} values but shape [${t.shape}] needs ${n}`);
    const dtype = typeof t.dtype === 'string' && KNOWN.has(t.dtype) ? (t.dtype as DType) : dtypeOfData(t.data);
    return { shape: (t.shape as number[]).slice(), dtype, values: data };
  }
  if (Array.isArray(v) || isTyped(v)) {
    const shape = nestedShape(v, where);
    const data: number[] = [];
    flatten(v, data, where);
    return { shape, dtype: isTyped(v) ? dtypeOfData(v) : 'float64', values: data };
  }
  throw new Error(`${where} is ${v === null ? 'null' : v === undefined ? 'undefined' : typeof v}; return an ndarray, a nested array, {shape, data}, or an object keyed by output name`);
}

/** The whole return value → tensors keyed by output name. */
export function toOutputs(v: Any, names: string[]): Record<string, Plain> {
  const looksKeyed = !!v && typeof v === 'object' && !Array.isArray(v) && !isTyped(v) && !isNdarray(v) && !('shape' in (v as object) && 'data' in (v as object));
  if (looksKeyed) {
    const o = v as Record<string, Any>;
    const out: Record<string, Plain> = {};
    for (const k of Object.keys(o)) if (names.includes(k)) out[k] = toTensor(o[k], k);
    if (Object.keys(out).length === 0) throw new Error(`returned an object with keys ${Object.keys(o).join(', ') || '(none)'}, but the outputs are named ${names.join(', ')}`);
    return out;
  }
  return { [names[0]]: toTensor(v, names[0]) };
}
