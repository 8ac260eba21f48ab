/**
 * The engine of the `simd` backend: the WebAssembly module of wat.ts, assembled once per process
 * with wabt and instantiated over one linear memory that grows as the work needs (and is reused,
 * never shrunk), and an Arena that lays out one call's regions in it.
 */
import wabtInit from 'wabt';
import { MR, NR, moduleWat } from './wat.js';

export { MR, NR };

type GemmFn = (a: number, koff: number, bases: number, c: number, mb: number, nb: number, k: number, ldc: number) => void;
type GatherFn = (pix: number, taps: number, k: number, nb: number, dst: number) => void;
type MaxPoolFn = (x: number, out: number, idx: number, planes: number, H: number, W: number, Ho: number, Wo: number, ti: number, tj: number, dh: number, dw: number) => void;
type AvgPoolFn = (x: number, out: number, planes: number, H: number, W: number, Ho: number, Wo: number, ti: number, tj: number, di: number, dj: number, divisor: number) => void;
type SoftmaxFn = (x: number, out: number, outer: number, size: number, inner: number) => void;
type Col2imFn = (c: number, ldc: number, y: number, Og: number, kh: number, kw: number, N: number, H: number, W: number, Ho: number, Wo: number, yN: number, tp: number, tq: number, sh: number, sw: number) => void;
type AddBiasFn = (y: number, bias: number, N: number, O: number, plane: number) => void;
type BoxIouFn = (a: number, b: number, N: number, M: number, plus: number, out: number) => void;
type NmsFn = (boxes: number, order: number, count: number, thr: number, plus: number, maxOut: number, keep: number, kb: number) => number;
type BnStatsFn = (x: number, N: number, C: number, inner: number, mean: number, variance: number) => void;
type BnApplyFn = (x: number, y: number, N: number, C: number, inner: number, mean: number, variance: number, gamma: number, beta: number, eps: number) => void;
type RoiAlignFn = (x: number, HW: number, C: number, ph: number, pw: number, ti: number, ty: number, tj: number, tx: number, count: number, out: number) => void;
type UnpackFn = (c: number, ldc: number, srcRow: number, bias: number, dst: number, dstO: number, dstRow: number, dstCol: number, m: number, rows: number, cols: number) => void;

interface Engine {
  memory: WebAssembly.Memory;
  gemm: GemmFn;
  gather: GatherFn;
  unpack: UnpackFn;
  maxpool: MaxPoolFn;
  avgpool: AvgPoolFn;
  softmax: SoftmaxFn;
  col2im: Col2imFn;
  addbias: AddBiasFn;
  boxiou: BoxIouFn;
  nms: NmsFn;
  bnstats: BnStatsFn;
  bnapply: BnApplyFn;
  roialign: RoiAlignFn;
}

let engine: Promise<Engine> | undefined;

/** Assembles and instantiates the micro-kernel once per process. */
export function getEngine(): Promise<Engine> {
  engine ??= (async () => {
    const wabt = await wabtInit();
    const parsed = wabt.parseWat('cnn-oracle.wat', moduleWat(), { simd: true });
    const { buffer } = parsed.toBinary({});
    parsed.destroy();
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(buffer as Uint8Array<ArrayBuffer>), { env: { memory, exp: Math.exp } });
    return { memory, gemm: instance.exports.gemm as GemmFn, gather: instance.exports.gather as GatherFn, unpack: instance.exports.unpack as UnpackFn, maxpool: instance.exports.maxpool as MaxPoolFn, avgpool: instance.exports.avgpool as AvgPoolFn, softmax: instance.exports.softmax as SoftmaxFn, col2im: instance.exports.col2im as Col2imFn, addbias: instance.exports.addbias as AddBiasFn, boxiou: instance.exports.boxiou as BoxIouFn, nms: instance.exports.nms as NmsFn, bnstats: instance.exports.bnstats as BnStatsFn, bnapply: instance.exports.bnapply as BnApplyFn, roialign: instance.exports.roialign as RoiAlignFn };
  })();
  return engine;
}

/**
 * One call's view of the engine's memory: regions are laid out first (byte offsets, 16-aligned),
 * then the memory grows once to hold them all and typed views are taken.
 */
export class Arena {
  private top = 0;
  f32!: Float32Array;
  i32!: Int32Array;
  constructor(private readonly e: Engine) {}

  /** Reserves n 4-byte words and returns the byte offset. */
  alloc(n: number): number {
    const at = this.top;
    this.top += Math.ceil((n * 4) / 16) * 16;
    return at;
  }

  /** Grows the memory to hold every region reserved so far; call after the allocs. Regions hold garbage. */
  commit(): void {
    const need = Math.ceil(this.top / 65536) - this.e.memory.buffer.byteLength / 65536;
    if (need > 0) this.e.memory.grow(need);
    this.f32 = new Float32Array(this.e.memory.buffer, 0, this.top / 4);
    this.i32 = new Int32Array(this.e.memory.buffer, 0, this.top / 4);
  }

  /** Reserves a float64 region of n values and returns the byte offset. */
  allocF64(n: number): number {
    return this.alloc(2 * n);
  }

  gemm(a: number, koff: number, bases: number, c: number, mb: number, nb: number, k: number, ldc: number): void {
    this.e.gemm(a, koff, bases, c, mb, nb, k, ldc);
  }

  /** Packs im2col panels: panel[cb][k][t] = f32 at byte pix[cb·8 + t] + taps[k]. */
  gather(pix: number, taps: number, k: number, nb: number, dst: number): void {
    this.e.gather(pix, taps, k, nb, dst);
  }

  /** Writes GEMM results plus a per-row bias into a float64 region (strides in elements). */
  unpack(c: number, ldc: number, srcRow: number, bias: number, dst: number, dstO: number, dstRow: number, dstCol: number, m: number, rows: number, cols: number): void {
    this.e.unpack(c, ldc, srcRow, bias, dst, dstO, dstRow, dstCol, m, rows, cols);
  }

  /** The engine's functions, for the kernels that call them directly. */
  get fns(): Engine {
    return this.e;
  }

  /** A float64 view of the memory (after commit). */
  f64(): Float64Array {
    return new Float64Array(this.e.memory.buffer);
  }

  /** A copy of n float64 values at byte offset `at`. */
  takeF64(at: number, n: number): Float64Array {
    return new Float64Array(this.e.memory.buffer.slice(at, at + n * 8));
  }
}

/**
 * Packs the M × K matrix A[row][k] = src[base + row·rowStride + k·colStride] into MR-row panels
 * (rows past M are zeros), rounding to float32.
 */
export function packA(dst: Float32Array, offset: number, src: ArrayLike<number>, M: number, K: number, rowStride: number, colStride: number, base: number): void {
  let t = offset / 4;
  for (let ob = 0; ob < Math.ceil(M / MR); ob++) {
    for (let k = 0; k < K; k++) {
      const at = base + k * colStride;
      for (let r = 0; r < MR; r++) {
        const row = ob * MR + r;
        dst[t++] = row < M ? src[at + row * rowStride] : 0;
      }
    }
  }
}

export interface SimdInfo {
  engine: string;
  microKernel: string;
  precision: 'float32';
}

/** What the simd backend is; assembling the kernel proves WebAssembly SIMD works here. */
export async function simdInfo(): Promise<SimdInfo> {
  await getEngine();
  return { engine: 'WebAssembly SIMD (f32x4), hand-written', microKernel: `${MR}×${NR}`, precision: 'float32' };
}
