/**
 * Independent, deliberately different implementations for cross-checking the reference:
 * explicit zero-padding then sliding windows (im2col style), plain float64 accumulation.
 */
export function naiveConv2d(
  x: number[][][][],
  w: number[][][][],
  b: number[] | null,
  stride: [number, number],
  pads: [number, number, number, number], // top, bottom, left, right
  dil: [number, number],
  groups: number,
): number[][][][] {
  const N = x.length;
  const C = x[0].length;
  const H = x[0][0].length;
  const W = x[0][0][0].length;
  const O = w.length;
  const kh = w[0][0].length;
  const kw = w[0][0][0].length;
  const Hp = H + pads[0] + pads[1];
  const Wp = W + pads[2] + pads[3];
  const padded = x.map((img) => img.map((ch) => {
    const rows: number[][] = [];
    for (let i = 0; i < Hp; i++) {
      const row: number[] = [];
      for (let j = 0; j < Wp; j++) {
        const si = i - pads[0];
        const sj = j - pads[2];
        row.push(si >= 0 && si < H && sj >= 0 && sj < W ? ch[si][sj] : 0);
      }
      rows.push(row);
    }
    return rows;
  }));
  const Ho = Math.floor((Hp - dil[0] * (kh - 1) - 1) / stride[0]) + 1;
  const Wo = Math.floor((Wp - dil[1] * (kw - 1) - 1) / stride[1]) + 1;
  const cg = C / groups;
  const og = O / groups;
  const y: number[][][][] = [];
  for (let n = 0; n < N; n++) {
    const out: number[][][] = [];
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / og);
      const plane: number[][] = [];
      for (let i = 0; i < Ho; i++) {
        const row: number[] = [];
        for (let j = 0; j < Wo; j++) {
          // gather the window (im2col column) and the filter, then dot them
          const col: number[] = [];
          const filt: number[] = [];
          for (let c = 0; c < cg; c++)
            for (let p = 0; p < kh; p++)
              for (let q = 0; q < kw; q++) {
                col.push(padded[n][g * cg + c][i * stride[0] + p * dil[0]][j * stride[1] + q * dil[1]]);
                filt.push(w[o][c][p][q]);
              }
          row.push(col.reduce((s, v, k) => s + v * filt[k], b ? b[o] : 0));
        }
        plane.push(row);
      }
      out.push(plane);
    }
    y.push(out);
  }
  return y;
}

/** Nested array of a flat row-major array. */
export function nest(data: ArrayLike<number>, shape: number[]): any {
  if (shape.length === 0) return data[0];
  const [d, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: d }, (_, i) => nest(Array.from(data).slice(i * size, (i + 1) * size), rest));
}

export function flatten(a: any): number[] {
  return Array.isArray(a) ? a.flatMap(flatten) : [a];
}
