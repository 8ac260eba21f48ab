/**
 * The engine of the `simd` backend: one hand-written WebAssembly SIMD (f32x4) matrix-multiply
 * micro-kernel, register-blocked 4 × 8, over one linear memory that grows as the work needs.
 *
 *   C[o][col] = Σ_{k<K} A[o][k] · B[k][col]      (float32, k in order, one accumulator per output)
 *
 * A is packed in panels of MR = 4 rows, k-major: A[(ob·K + k)·4 + r] = A[ob·4 + r][k], so the four
 * row values of one k are four consecutive floats, each broadcast to a vector (v128.load32_splat).
 * B is read in blocks of NR = 8 columns: block cb starts at byte `bases[cb]`, and its row k is the
 * 8 consecutive floats at bases[cb] + koff[k] (two v128 loads). With koff[k] = 32·k and one packed
 * panel per block this is the classic packed GEMM; with koff[k] the offset of tap k in a padded
 * image it is an implicit-im2col convolution that never materializes the column matrix.
 * Each (block, panel) pair keeps its 4 × 8 results in eight v128 accumulators for all K steps and
 * stores them once: C[(ob·4 + r)·ldc + cb·8 + t].
 *
 * Why not gpu.js: its WebAssembly backend vectorizes across 4 neighbouring output cells, loads every
 * lane-varying operand with 4 scalar loads (no gather in wasm), and a kernel returns at most 4
 * values; that caps a conv at ≈ 4 multiply-adds per gather (measured 1.7 GFLOP/s single-threaded,
 * 3.4 with its worker threads, on the benchmark conv). Register blocking needs control of the loads.
 */
import wabtInit from 'wabt';

export const MR = 4;
export const NR = 8;
const NV = NR / 4;

/** The WebAssembly text of the micro-kernel, the MR × NV accumulator updates written out. */
export function gemmWat(): string {
  const acc: string[] = [];
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) acc.push(`$c${r}_${v}`);
  const body: string[] = [];
  for (let v = 0; v < NV; v++) body.push(`(local.set $b${v} (v128.load offset=${16 * v} (local.get $addr)))`);
  for (let r = 0; r < MR; r++) {
    body.push(`(local.set $av (v128.load32_splat offset=${4 * r} (local.get $pa)))`);
    for (let v = 0; v < NV; v++) body.push(`(local.set $c${r}_${v} (f32x4.add (local.get $c${r}_${v}) (f32x4.mul (local.get $av) (local.get $b${v}))))`);
  }
  const stores: string[] = [];
  for (let r = 0; r < MR; r++) {
    stores.push(`(local.set $out (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $ob) (i32.const ${MR})) (i32.const ${r})) (local.get $ldc)) (i32.mul (local.get $cb) (i32.const ${NR}))) (i32.const 2))))`);
    for (let v = 0; v < NV; v++) stores.push(`(v128.store offset=${16 * v} (local.get $out) (local.get $c${r}_${v}))`);
  }
  return `(module
  (import "env" "memory" (memory 1 65536))
  ;; gemm(a, koff, bases, c, mb, nb, k, ldc): mb row panels × nb column blocks, K steps each
  (func (export "gemm") (param $a i32) (param $koff i32) (param $bases i32) (param $c i32)
                        (param $mb i32) (param $nb i32) (param $k i32) (param $ldc i32)
    (local $cb i32) (local $ob i32) (local $kt i32) (local $kend i32) (local $pa i32) (local $pb i32)
    (local $addr i32) (local $out i32) (local $av v128)
    ${acc.map((a) => `(local ${a} v128)`).join(' ')}
    ${Array.from({ length: NV }, (_, v) => `(local $b${v} v128)`).join(' ')}
    (local.set $kend (i32.add (local.get $koff) (i32.shl (local.get $k) (i32.const 2))))
    (local.set $cb (i32.const 0))
    (block $cbdone (loop $cbloop
      (br_if $cbdone (i32.ge_u (local.get $cb) (local.get $nb)))
      (local.set $pb (i32.load (i32.add (local.get $bases) (i32.shl (local.get $cb) (i32.const 2)))))
      (local.set $ob (i32.const 0))
      (block $obdone (loop $obloop
        (br_if $obdone (i32.ge_u (local.get $ob) (local.get $mb)))
        ${acc.map((a) => `(local.set ${a} (v128.const i32x4 0 0 0 0))`).join('\n        ')}
        (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $ob) (i32.mul (local.get $k) (i32.const ${MR * 4})))))
        (local.set $kt (local.get $koff))
        (block $kdone (loop $kloop
          (br_if $kdone (i32.ge_u (local.get $kt) (local.get $kend)))
          (local.set $addr (i32.add (local.get $pb) (i32.load (local.get $kt))))
          ${body.join('\n          ')}
          (local.set $pa (i32.add (local.get $pa) (i32.const ${MR * 4})))
          (local.set $kt (i32.add (local.get $kt) (i32.const 4)))
          (br $kloop)))
        ${stores.join('\n        ')}
        (local.set $ob (i32.add (local.get $ob) (i32.const 1)))
        (br $obloop)))
      (local.set $cb (i32.add (local.get $cb) (i32.const 1)))
      (br $cbloop)))))`;
}

type GemmFn = (a: number, koff: number, bases: number, c: number, mb: number, nb: number, k: number, ldc: number) => void;

interface Engine {
  memory: WebAssembly.Memory;
  gemm: GemmFn;
}

let engine: Promise<Engine> | undefined;

/** Assembles and instantiates the micro-kernel once per process. */
export function getEngine(): Promise<Engine> {
  engine ??= (async () => {
    const wabt = await wabtInit();
    const parsed = wabt.parseWat('gemm.wat', gemmWat(), { simd: true });
    const { buffer } = parsed.toBinary({});
    parsed.destroy();
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(buffer as Uint8Array<ArrayBuffer>), { env: { memory } });
    return { memory, gemm: instance.exports.gemm as GemmFn };
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

  gemm(a: number, koff: number, bases: number, c: number, mb: number, nb: number, k: number, ldc: number): void {
    this.e.gemm(a, koff, bases, c, mb, nb, k, ldc);
  }
}

/** Packs rows [row0, row0 + M) of an M_total × K row-major matrix (read through `at`) into MR-row panels. */
export function packA(dst: Float32Array, offset: number, M: number, K: number, at: (row: number, k: number) => number): void {
  let t = offset / 4;
  for (let ob = 0; ob < Math.ceil(M / MR); ob++) {
    for (let k = 0; k < K; k++) {
      for (let r = 0; r < MR; r++) {
        const row = ob * MR + r;
        dst[t++] = row < M ? at(row, k) : 0;
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
