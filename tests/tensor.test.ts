import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeTensor, encodeTensor, stringify, OracleError } from '../src/index.js';

const bits = (x: number) => {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  return v.getBigUint64(0);
};

describe('tensor JSON (cases.md)', () => {
  it('round-trips NaN, ±Infinity and −0 through text, bit for bit', () => {
    const t = decodeTensor({ shape: [5], data: ['NaN', 'Infinity', '-Infinity', '-0', 1.5] });
    const text = stringify(encodeTensor(t.array));
    expect(text).toBe('{"shape":[5],"dtype":"float64","data":["NaN","Infinity","-Infinity",-0.0,1.5]}');
    const back = decodeTensor(JSON.parse(text));
    expect(Number.isNaN(back.array.data[0])).toBe(true);
    expect(back.array.data[1]).toBe(Infinity);
    expect(back.array.data[2]).toBe(-Infinity);
    expect(Object.is(back.array.data[3], -0)).toBe(true);
  });

  it('reads -0.0 written as a JSON number', () => {
    const t = decodeTensor(JSON.parse('{"shape":[1],"data":[-0.0]}'));
    expect(Object.is(t.array.data[0], -0)).toBe(true);
  });

  it('round-trips every finite double bit for bit (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 20 }), (xs) => {
        const text = stringify(encodeTensor(decodeTensor({ shape: [xs.length], data: xs }).array));
        const back = decodeTensor(JSON.parse(text)).array.data;
        return xs.every((x, i) => bits(x) === bits(back[i]));
      }),
      { seed: 20261122, numRuns: 300 },
    );
  });

  it('prints numbers in their shortest round-trip form', () => {
    expect(stringify(encodeTensor(decodeTensor({ shape: [3], data: [0.1, 1e21, 5e-324] }).array))).toContain('[0.1,1e+21,5e-324]');
  });

  it('handles scalars (shape [])', () => {
    const t = decodeTensor({ shape: [], data: [3] });
    expect(t.array.shape).toEqual([]);
    expect(stringify(encodeTensor(t.array))).toBe('{"shape":[],"dtype":"float64","data":[3]}');
  });

  it('rounds float32 data to float32 and keeps integer dtypes exact', () => {
    expect(decodeTensor({ shape: [1], dtype: 'float32', data: [0.1] }).array.data[0]).toBe(Math.fround(0.1));
    expect(decodeTensor({ shape: [2], dtype: 'int64', data: [9007199254740991, -3] }).array.data[0]).toBe(9007199254740991);
    expect(decodeTensor({ shape: [2], dtype: 'bool', data: [true, 0] }).array.data).toEqual(new Float64Array([1, 0]));
  });

  it.each([
    [{ shape: [2], data: [1] }, '/data', 'data has 1 values but shape [2] needs 2'],
    [{ shape: [2, -1], data: [] }, '/shape/1', 'shape[1] must be a non-negative integer'],
    [{ shape: [1], dtype: 'float16', data: [1] }, '/dtype', 'dtype must be one of'],
    [{ shape: [2], data: [1, 'nan'] }, '/data/1', 'data[1] must be a number or one of'],
    [{ shape: [1], dtype: 'int64', data: [1.5] }, '/data/0', 'must be an integer for dtype int64'],
    [{ shape: [1], dtype: 'int64', data: [2 ** 60] }, '/data/0', 'outside the exactly representable integer range'],
    [{ shape: [1], dtype: 'int32', data: [2 ** 40] }, '/data/0', 'does not fit in int32'],
  ])('rejects %j naming %s', (json, path, msg) => {
    try {
      decodeTensor(json);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OracleError);
      expect((e as OracleError).path).toBe(path);
      expect((e as OracleError).message).toContain(msg);
    }
  });
});
