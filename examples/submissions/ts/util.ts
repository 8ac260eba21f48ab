// Shared helpers of this TypeScript submission (a folder: index.ts is its entry).
export interface Nd {
  shape: number[];
  data: Float64Array;
  get(...i: number[]): number;
}
export interface Out {
  shape: number[];
  data: ArrayLike<number>;
  dtype?: string;
}
export type Padding = number | number[] | 'valid' | 'same';

export const pair = (v: number | number[]): [number, number] => (typeof v === 'number' ? [v, v] : v.length === 1 ? [v[0], v[0]] : [v[0], v[1]]);

/** [top, bottom, left, right] from the padding forms of the catalogue. */
export function pads2d(padding: Padding, k: number[], d: number[]): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    const th = d[0] * (k[0] - 1);
    const tw = d[1] * (k[1] - 1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  return padding.length === 2 ? [padding[0], padding[0], padding[1], padding[1]] : padding;
}
