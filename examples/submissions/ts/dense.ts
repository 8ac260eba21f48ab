import type { Nd, Out } from './util.js';

export const relu = ({ x }: { x: Nd }): Out => ({ shape: x.shape, data: x.data.map((v) => (v > 0 || Number.isNaN(v) ? v : 0)) });

export function linear({ x, weight, bias }: { x: Nd; weight: Nd; bias?: Nd }): Out {
  const inF = x.shape[x.shape.length - 1];
  const outF = weight.shape[0];
  const rows = x.data.length / inF;
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias.get(o) : 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i] * weight.get(o, i);
      y[r * outF + o] = s;
    }
  return { shape: [...x.shape.slice(0, -1), outF], data: y };
}

export function softmax({ x }: { x: Nd }, { dim }: { dim: number }): Out {
  const d = dim < 0 ? dim + x.shape.length : dim;
  const size = x.shape[d];
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const y = new Float64Array(x.data.length);
  for (let o = 0; o < x.data.length / (size * inner); o++)
    for (let k = 0; k < inner; k++) {
      const at = (j: number) => (o * size + j) * inner + k;
      let m = -Infinity;
      for (let j = 0; j < size; j++) m = Math.max(m, x.data[at(j)]);
      let s = 0;
      for (let j = 0; j < size; j++) s += Math.exp(x.data[at(j)] - m);
      for (let j = 0; j < size; j++) y[at(j)] = Math.exp(x.data[at(j)] - m) / s;
    }
  return { shape: x.shape, data: y };
}
