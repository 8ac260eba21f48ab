/**
 * The `simd` backend's ops: conv2d, convTranspose2d and linear as one WebAssembly SIMD matrix
 * multiply each (per group), float32. Shapes and params are validated by the reference's own
 * helpers, so this backend rejects exactly what the reference rejects.
 *
 * - conv2d, stride 1: implicit im2col. The input is copied once into a zero-padded float32 image
 *   whose rows are wide enough for whole 8-column output blocks; column block (n, i, j..j+7) of the
 *   GEMM reads tap (c, p, q) at offset ((c·Hp + p·d_h)·Wp + q·d_w) from its corner.
 * - conv2d, other strides: the same padded image; a gather kernel copies each tap of 8 output
 *   pixels into packed 8-column panels (explicit im2col, no bounds tests), then the same GEMM.
 * - convTranspose2d: col[(m,p,q)][n,ih,iw] = Σ_c w[c,m,p,q]·x[n,c,ih,iw] as a GEMM (x gathered into
 *   panels), then a col2im kernel adds each column entry into y[n, m, ih·s − P + p·d, iw·s − P + q·d]
 *   (float64 adds, rounded once).
 * - linear: y = x·wᵀ with w as the row panels and x's rows gathered into the column panels.
 * The bias is added to the float32 sum and rounded to float32 like every output.
 */
import { fromData, type Arr } from '../../src/tensor.js';
import { flat } from '../../src/reference/common.js';
import { convShape, type ConvGeometry } from '../../src/reference/conv.js';
import { transposedShape, type TransposedGeometry } from '../../src/reference/transposed.js';
import { invalidInputs } from '../../src/errors.js';
import { Arena, getEngine, MR, NR, packA, ranges, SPLIT_MIN } from './engine.js';

const blocks = (n: number, size: number) => Math.ceil(n / size);

/** conv2d: y[n,o,i,j] = b[o] + Σ_c Σ_p Σ_q x[n, g·Cg + c, i·s − P + p·d, j·s − P + q·d]·w̃[o,c,p,q], as GEMMs. */
export async function conv2d(x: Arr, w: Arr, b: Arr | undefined, g: ConvGeometry): Promise<Arr> {
  const [Ho, Wo] = convShape(x, w, b, g);
  const [N, C, H, W] = x.shape;
  const [O, Cg, kh, kw] = w.shape;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  const [pt, pl] = g.pads.begin;
  const xd = flat(x);
  const wd = flat(w);
  const bd = b ? flat(b) : undefined;
  const padded = g.pads.begin.some((p) => p > 0) || g.pads.end.some((p) => p > 0);
  const G = g.groups;
  const Og = O / G;
  const K = Cg * kh * kw;
  const mb = blocks(Og, MR);
  // depthwise (one input channel and one filter per group), stride 1 along the rows: a direct kernel
  // depthwise (one input channel and one filter per group), stride 1 along the rows: a direct kernel
  const depthwise = Cg === 1 && Og === 1 && sw === 1 && N * O * Ho * Wo > 0;
  const implicit = sh === 1 && sw === 1;
  const Wo8 = blocks(Wo, NR) * NR;
  const P = N * Ho * Wo;
  const nb = implicit ? N * Ho * (Wo8 / NR) : blocks(P, NR);
  const ldc = nb * NR;
  // the zero-padded float32 image, tall and wide enough for every tap read (implicit: of whole
  // 8-column output blocks, whose last columns are computed and dropped)
  const Hp = Math.max(pt + H, (Ho - 1) * sh + (kh - 1) * dh + 1);
  const Wp = Math.max(pl + W, (implicit || depthwise ? Wo8 - 1 : (Wo - 1) * sw) + (kw - 1) * dw + 1);

  const e = await getEngine();
  const ar = new Arena(e);
  // the weights as given, row-major [O][K] in float32, and MR rows of zeros after them (the last
  // panel of a group reads past its rows: those results are computed and dropped)
  const aOff = ar.alloc((O + MR) * K);
  const tapsOff = ar.alloc(K);
  const xOff = ar.alloc(N * C * H * W);
  const basesOff = depthwise ? 0 : ar.alloc(nb);
  const cOff = depthwise ? 0 : ar.alloc(mb * MR * ldc);
  const imgOff = ar.alloc(N * C * Hp * Wp);
  const biasOff = ar.alloc(O);
  const yOff = ar.alloc(N * O * Ho * Wo);
  // the strided path gathers explicit panels (row k of panel cb at 32·k) from per-pixel addresses
  const strided = !implicit && !depthwise;
  const panelOff = strided ? ar.alloc(nb * K * NR) : 0;
  const panelKOff = strided ? ar.alloc(K) : 0;
  const pixOff = strided ? ar.alloc(nb * NR) : 0;
  ar.commit();
  const { f32, i32 } = ar;
  ar.putF32(aOff, wd);
  f32.fill(0, aOff / 4 + O * K, aOff / 4 + (O + MR) * K);
  if (padded && e.nonfinite(aOff, O * K)) {
    // the reference skips padding taps; a GEMM multiplies them (0·∞ = NaN), so non-finite weights
    // with padding go to the gpu.js kernel, which skips them as the reference does
    return (await import('../ops.js')).conv2d(x, w, b, g);
  }
  ar.setF32(biasOff, O, bd);
  // x in float32 (one typed-array copy), then padded in WebAssembly, planes split over the threads
  ar.putF32(xOff, xd);
  ar.fns.parallel('padcopy', ranges(e.threads, N * C, SPLIT_MIN / Math.max(1, Hp * Wp)).map(([from, count]) => [xOff + 4 * from * H * W, imgOff + 4 * from * Hp * Wp, count, H, W, Hp, Wp, pt, pl]));
  // tap k = (c, p, q) of a pixel is at byte offset ((c·Hp + p·d_h)·Wp + q·d_w)·4 from its (0, 0)
  // tap; a true convolution (flip) reverses the taps of each kernel instead of its weights
  let t = tapsOff / 4;
  for (let c = 0; c < Cg; c++) {
    for (let p = 0; p < kh; p++) {
      for (let q = 0; q < kw; q++) {
        const [pp, qq] = g.flip ? [kh - 1 - p, kw - 1 - q] : [p, q];
        i32[t++] = ((c * Hp + pp * dh) * Wp + qq * dw) * 4;
      }
    }
  }
  if (depthwise) {
    // planes (n, c) split over the threads; plane (n, c)'s filter and bias are channel c's
    const parts: number[][] = [];
    for (let n = 0; n < N; n++) {
      for (const [from, count] of ranges(e.threads, C, SPLIT_MIN / Math.max(1, Ho * Wo * K))) {
        if (count > 0) parts.push([imgOff + 4 * (n * C + from) * Hp * Wp, aOff + 4 * from * K, biasOff + 4 * from, yOff + 4 * (n * C + from) * Ho * Wo, tapsOff, K, count, Hp, Wp, Ho, Wo, sh]);
      }
    }
    for (let at = 0; at < parts.length; at += e.threads) ar.fns.parallel('dwconv', parts.slice(at, at + e.threads));
    return fromData(ar.takeF32(yOff, N * O * Ho * Wo), [N, O, Ho, Wo]);
  }
  if (strided) panelTables(i32, panelKOff, basesOff, panelOff, K, nb);
  // bytes of the image one column block reads (implicit: Cg·kh rows of NR + (kw − 1)·dw floats)
  const blockBytes = implicit ? Math.min(32 * K, 4 * Cg * kh * (NR + (kw - 1) * dw)) : 32 * K;

  for (let gi = 0; gi < G; gi++) {
    // the (0, 0) tap of output pixel (n, i, j) in the padded image, channels of this group
    const corner = (n: number, i: number, j: number) => imgOff + (((n * C + gi * Cg) * Hp + i * sh) * Wp + j * sw) * 4;
    const a = aOff + 4 * gi * Og * K;
    if (implicit) {
      let e = basesOff / 4;
      for (let n = 0; n < N; n++) for (let i = 0; i < Ho; i++) for (let jb = 0; jb < Wo8; jb += NR) i32[e++] = corner(n, i, jb);
      ar.fns.pgemm(a, 4 * K, tapsOff, basesOff, cOff, mb, nb, K, ldc, blockBytes);
    } else {
      // pixels past P repeat pixel 0: their columns are computed and dropped
      let e = pixOff / 4;
      for (let n = 0; n < N; n++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) i32[e++] = corner(n, i, j);
      for (; e < pixOff / 4 + nb * NR; e++) i32[e] = corner(0, 0, 0);
      gather(ar, pixOff, tapsOff, K, nb, panelOff);
      ar.fns.pgemm(a, 4 * K, panelKOff, basesOff, cOff, mb, nb, K, ldc);
    }
    // column of (n, i, j): (n·Ho + i)·rowWidth + j, rows Wo8 wide (implicit) or Wo (packed)
    const rowWidth = implicit ? Wo8 : Wo;
    const parts: number[][] = [];
    for (let n = 0; n < N; n++) {
      for (const [from, count] of ranges(e.threads, Og, SPLIT_MIN / Math.max(1, Ho * Wo))) {
        if (count > 0) parts.push([cOff + 4 * (from * ldc + n * Ho * rowWidth), ldc, rowWidth, biasOff + 4 * (gi * Og + from), yOff + 4 * (n * O + gi * Og + from) * Ho * Wo, Ho * Wo, Wo, 1, count, Ho, Wo]);
      }
    }
    for (let at = 0; at < parts.length; at += e.threads) ar.fns.parallel('unpack', parts.slice(at, at + e.threads));
  }
  return fromData(ar.takeF32(yOff, N * O * Ho * Wo), [N, O, Ho, Wo]);
}

/** The gather kernel over nb column blocks, the blocks split over the threads when there are enough. */
function gather(ar: Arena, pixOff: number, tapsOff: number, K: number, nb: number, dst: number): void {
  const parts = ranges(ar.fns.threads, nb, SPLIT_MIN / Math.max(1, K * NR)).map(([from, count]) => [pixOff + 4 * NR * from, tapsOff, K, count, dst + 4 * NR * K * from]);
  ar.fns.parallel('gather', parts);
}

/** Offsets and block bases of packed panels (row k of block cb at base + cb·K·32 + 32·k). */
function panelTables(i32: Int32Array, kOff: number, basesOff: number, srcOff: number, K: number, nb: number): void {
  for (let k = 0; k < K; k++) i32[kOff / 4 + k] = k * NR * 4;
  for (let cb = 0; cb < nb; cb++) i32[basesOff / 4 + cb] = srcOff + cb * K * NR * 4;
}

/** linear: y[r, o] = b[o] + Σ_i x[r, i]·w[o, i]. */
export async function linear(x: Arr, w: Arr, b: Arr | undefined): Promise<Arr> {
  const inF = x.shape[x.shape.length - 1];
  const [outF, wIn] = w.shape;
  if (wIn !== inF) throw invalidInputs('/inputs/weight/shape/1', `weight has ${wIn} input features but x has ${inF}`);
  const xd = flat(x);
  const wd = flat(w);
  const bd = b ? flat(b) : undefined;
  const rows = inF === 0 ? x.shape.slice(0, -1).reduce((a, c) => a * c, 1) : xd.length / inF;
  const mb = blocks(outF, MR);
  const nb = blocks(rows, NR);
  const ldc = nb * NR;
  const ar = new Arena(await getEngine());
  const aOff = ar.alloc((mb * MR) * inF);
  const kOff = ar.alloc(inF);
  const basesOff = ar.alloc(nb);
  const cOff = ar.alloc(mb * MR * ldc);
  const panelOff = ar.alloc(nb * inF * NR);
  const xOff = ar.alloc(rows * inF);
  const tapsOff = ar.alloc(inF);
  const pixOff = ar.alloc(nb * NR);
  const biasOff = ar.alloc(outF);
  const yOff = ar.alloc(rows * outF);
  ar.commit();
  const { f32, i32 } = ar;
  ar.setF32(biasOff, outF, bd);
  // w as given (row-major [outF][inF], float32), zero rows up to whole panels
  ar.putF32(aOff, wd);
  f32.fill(0, aOff / 4 + outF * inF, aOff / 4 + mb * MR * inF);
  // x's rows gathered into column panels: column r of the multiply is row r of x (rows past the end repeat row 0)
  ar.putF32(xOff, xd);
  for (let k = 0; k < inF; k++) i32[tapsOff / 4 + k] = 4 * k;
  for (let r = 0; r < nb * NR; r++) i32[pixOff / 4 + r] = xOff + (r < rows ? 4 * r * inF : 0);
  gather(ar, pixOff, tapsOff, inF, nb, panelOff);
  panelTables(i32, kOff, basesOff, panelOff, inF, nb);
  ar.fns.pgemm(aOff, 4 * inF, kOff, basesOff, cOff, mb, nb, inF, ldc);
  // C[o][r] is y[r][o]
  ar.fns.parallel('unpack', ranges(ar.fns.threads, outF, SPLIT_MIN / Math.max(1, rows)).map(([from, count]) => [cOff + 4 * from * ldc, ldc, 0, biasOff + 4 * from, yOff + 4 * from, 1, 0, outF, count, 1, rows]));
  return fromData(ar.takeF32(yOff, rows * outF), [...x.shape.slice(0, -1), outF]);
}

/** Per tap p along one axis: [first input index, count, output offset p·d − P⁻] of the inputs whose output o = i·s + offset lands in [0, Lo). */
function scatterWindows(L: number, Lo: number, k: number, s: number, d: number, pb: number): Int32Array {
  const t = new Int32Array(3 * k);
  for (let p = 0; p < k; p++) {
    const off = p * d - pb;
    const lo = Math.max(0, Math.ceil(-off / s));
    const hi = Math.min(L - 1, Math.floor((Lo - 1 - off) / s));
    t.set([lo, Math.max(0, hi - lo + 1), off], 3 * p);
  }
  return t;
}

/** convTranspose2d: y[n, g·Og + m, ih·s − P + p·d, iw·s − P + q·d] += Σ_c x[n, g·Cg + c, ih, iw]·w[g·Cg + c, m, p, q]. */
export async function convTranspose2d(x: Arr, w: Arr, b: Arr | undefined, g: TransposedGeometry): Promise<Arr> {
  const [Ho, Wo] = transposedShape(x, w, b, g);
  const [N, C, H, W] = x.shape;
  const [, Og, kh, kw] = w.shape;
  const G = g.groups;
  const O = Og * G;
  const Cg = C / G;
  const xd = flat(x);
  const wd = flat(w);
  const bd = b ? flat(b) : undefined;
  const M = Og * kh * kw;
  const HW = H * W;
  const P = N * HW;
  const mb = blocks(M, MR);
  const nb = blocks(P, NR);
  const ldc = nb * NR;
  const ar = new Arena(await getEngine());
  const aOff = ar.alloc(mb * MR * Cg);
  const kOff = ar.alloc(Cg);
  const basesOff = ar.alloc(nb);
  const cOff = ar.alloc(mb * MR * ldc);
  const panelOff = ar.alloc(nb * Cg * NR);
  const imgOff = ar.alloc(N * C * HW);
  const tapsOff = ar.alloc(Cg);
  const pixOff = ar.alloc(nb * NR);
  const tpOff = ar.alloc(3 * kh);
  const tqOff = ar.alloc(3 * kw);
  const biasOff = ar.alloc(O);
  const yOff = ar.allocF64(N * O * Ho * Wo);
  ar.commit();
  const { f32, i32 } = ar;
  ar.setF32(biasOff, O, bd);
  ar.putF32(imgOff, xd);
  for (let c = 0; c < Cg; c++) i32[tapsOff / 4 + c] = c * HW * 4;
  panelTables(i32, kOff, basesOff, panelOff, Cg, nb);
  i32.set(scatterWindows(H, Ho, kh, g.stride[0], g.dilation[0], g.pads.begin[0]), tpOff / 4);
  i32.set(scatterWindows(W, Wo, kw, g.stride[1], g.dilation[1], g.pads.begin[1]), tqOff / 4);
  ar.f64().fill(0, yOff / 8, yOff / 8 + N * O * Ho * Wo);
  for (let gi = 0; gi < G; gi++) {
    // A[(m,p,q)][c] = w[g·Cg + c, m, p, q]; B[c][(n, pixel)] = x[n, g·Cg + c, pixel], gathered into panels
    packA(f32, aOff, wd, M, Cg, 1, M, gi * Cg * M);
    for (let col = 0; col < nb * NR; col++) {
      const n = Math.floor(col / HW);
      i32[pixOff / 4 + col] = col < P ? imgOff + ((n * C + gi * Cg) * HW + (col - n * HW)) * 4 : imgOff;
    }
    gather(ar, pixOff, tapsOff, Cg, nb, panelOff);
    ar.fns.pgemm(aOff, 4 * Cg, kOff, basesOff, cOff, mb, nb, Cg, ldc);
    // col2im: each (m, p, q) row lands on the outputs it reaches, added in float64
    ar.fns.col2im(cOff, ldc, yOff + 8 * gi * Og * Ho * Wo, Og, kh, kw, N, H, W, Ho, Wo, O * Ho * Wo, tpOff, tqOff, g.stride[0], g.stride[1]);
  }
  // the bias, rounded to float32 like every input, then the output rounded to float32
  ar.fns.addbias(yOff, biasOff, N, O, Ho * Wo);
  const y = ar.takeF64(yOff, N * O * Ho * Wo);
  return fromData(y, [N, O, Ho, Wo]);
}
