/**
 * The engine of the `simd` backend: the WebAssembly module of wat.ts, assembled once per process
 * with wabt and instantiated over one shared linear memory that grows as the work needs (and is
 * reused, never shrunk), and an Arena that lays out one call's regions in it.
 *
 * Threads: the matrix multiply shares its column blocks between the calling thread and worker
 * threads that run the same module over the same memory (CNN_ORACLE_SIMD_THREADS, default the
 * number of cores, at most 4). The calling thread posts the job in each worker's control slot at
 * the bottom of the memory and wakes it with Atomics.notify; every thread then takes chunks of
 * blocks from a shared counter (Atomics.add) until none is left, so the split adapts to a thread
 * that starts late or is slowed down; the caller waits for each worker's done flag with
 * Atomics.wait: no messages, no promises. Workers are unref'd, so they never keep the process
 * alive. Small multiplies run on the calling thread alone.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
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
type RoiAlignFn = (x: number, out: number, planes: number, H: number, W: number, ph: number, pw: number, ti: number, tj: number, ty: number, tx: number, count: number) => void;
type UnpackFn = (c: number, ldc: number, srcRow: number, bias: number, dst: number, dstO: number, dstRow: number, dstCol: number, m: number, rows: number, cols: number) => void;

/** The module's exports (each function's contract is the comment above it in wat.ts). */
interface Exports {
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
  hardswish: (x: number, out: number, n: number) => void;
  exp: (x: number) => number;
}

interface Engine extends Exports {
  memory: WebAssembly.Memory;
  /** Threads that run a large multiply, the calling one included. */
  threads: number;
  /** The matrix multiply, split across the threads when it is large. */
  pgemm: GemmFn;
  /** Calls a function once per part (argument lists of independent pieces of work), the parts spread over the threads. */
  parallel: (name: Callable, parts: number[][]) => void;
}

let engine: Promise<Engine> | undefined;

/**
 * Control slots at the bottom of the memory, one per worker, SLOT_INTS ints each:
 * [0] go (1: a share of a gemm, 2: one call), [1] done, [2] the called function, [3] its argument
 * count, [4..12] the gemm arguments and chunk size, from [16] the call's arguments as float64.
 */
const SLOT_INTS = 64;
const MAX_THREADS = 4;
/** The shared counter of the next column block to take (an int index, after the slots). */
const COUNTER = SLOT_INTS * MAX_THREADS;
/** Where the Arena starts: after the control slots and the counter. */
const ARENA_BASE = 2048;
/** Multiply-adds below which a multiply stays on the calling thread (waking a worker costs ~50 µs). */
const PARALLEL_MIN = 1 << 20;
/** Inner-loop steps a thread should get at least before a loop is split (waking one costs ~50 µs). */
export const SPLIT_MIN = 1 << 16;
/** The functions a worker may be asked to call (split by their callers into independent parts). */
const CALLABLE = ['maxpool', 'avgpool', 'softmax', 'boxiou', 'bnapply'] as const;
export type Callable = (typeof CALLABLE)[number];

// Plain JavaScript for worker_threads' eval mode: instantiate the module over the shared memory,
// then, each time this worker's slot says go, either take chunks of a gemm's column blocks from
// the shared counter until none is left (so a thread that starts late, or is slowed down, just
// takes fewer), or make the one call it was given.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, slot } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const names = ${JSON.stringify(CALLABLE)};
for (;;) {
  Atomics.wait(new Int32Array(memory.buffer), slot, 0);
  const v = new Int32Array(memory.buffer);
  if (v[slot] === 1) {
    const [a, koff, bases, c, mb, nb, k, ldc, chunk] = v.subarray(slot + 4, slot + 13);
    for (;;) {
      const from = Atomics.add(v, ${COUNTER}, chunk);
      if (from >= nb) break;
      ex.gemm(a, koff, bases + 4 * from, c + ${4 * NR} * from, mb, Math.min(chunk, nb - from), k, ldc);
    }
  } else {
    ex[names[v[slot + 2]]](...new Float64Array(memory.buffer, (slot + 16) * 4, v[slot + 3]));
  }
  Atomics.store(v, slot, 0);
  Atomics.store(v, slot + 1, 1);
  Atomics.notify(v, slot + 1);
}`;

function threadCount(): number {
  const asked = Number(process.env.CNN_ORACLE_SIMD_THREADS);
  const n = Number.isInteger(asked) && asked > 0 ? asked : availableParallelism();
  return Math.max(1, Math.min(n, MAX_THREADS));
}

/** Assembles and instantiates the module once per process, and starts its worker threads. */
export function getEngine(): Promise<Engine> {
  engine ??= (async () => {
    const wabt = await wabtInit();
    const parsed = wabt.parseWat('cnn-oracle.wat', moduleWat(), { simd: true, threads: true });
    const { buffer } = parsed.toBinary({});
    parsed.destroy();
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
    const module = new WebAssembly.Module(buffer as Uint8Array<ArrayBuffer>);
    const x = new WebAssembly.Instance(module, { env: { memory } }).exports;
    const { gemm } = x as unknown as Exports;
    const workers: number[] = [];
    for (let w = 0; w < threadCount() - 1; w++) {
      try {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, slot: w * SLOT_INTS } });
        worker.unref();
        workers.push(w * SLOT_INTS);
      } catch {
        break; // no worker threads here: the calling thread does it all
      }
    }
    /** Wakes the worker of `slot` with job `go` (arguments already written). */
    const wake = (v: Int32Array, slot: number, go: number) => {
      Atomics.store(v, slot + 1, 0);
      Atomics.store(v, slot, go);
      Atomics.notify(v, slot);
    };
    const join = (v: Int32Array, slots: number[]) => {
      for (const slot of slots) while (Atomics.load(v, slot + 1) === 0) Atomics.wait(v, slot + 1, 0);
    };
    const pgemm: GemmFn = (a, koff, bases, c, mb, nb, k, ldc) => {
      const threads = Math.min(workers.length + 1, nb);
      if (threads < 2 || mb * nb * k * MR * NR < PARALLEL_MIN) return gemm(a, koff, bases, c, mb, nb, k, ldc);
      // chunks small enough to balance, large enough that taking one costs nothing
      const chunk = Math.max(1, Math.ceil(nb / (8 * threads)));
      const v = new Int32Array(memory.buffer);
      Atomics.store(v, COUNTER, 0);
      const busy = workers.slice(0, threads - 1);
      for (const slot of busy) {
        v.set([a, koff, bases, c, mb, nb, k, ldc, chunk], slot + 4);
        wake(v, slot, 1);
      }
      for (;;) {
        const from = Atomics.add(v, COUNTER, chunk);
        if (from >= nb) break;
        gemm(a, koff, bases + 4 * from, c + 4 * NR * from, mb, Math.min(chunk, nb - from), k, ldc);
      }
      join(v, busy);
    };
    const parallel = (name: Callable, parts: number[][]) => {
      const fn = (x as unknown as Record<Callable, (...args: number[]) => void>)[name];
      const v = new Int32Array(memory.buffer);
      const busy: number[] = [];
      parts.slice(1).forEach((args, i) => {
        if (i >= workers.length) return;
        const slot = workers[i];
        v[slot + 2] = CALLABLE.indexOf(name);
        v[slot + 3] = args.length;
        new Float64Array(memory.buffer, (slot + 16) * 4, args.length).set(args);
        wake(v, slot, 2);
        busy.push(slot);
      });
      fn(...parts[0]);
      for (const args of parts.slice(1 + workers.length)) fn(...args);
      join(v, busy);
    };
    return { ...(x as unknown as Exports), memory, threads: workers.length + 1, pgemm, parallel };
  })();
  return engine;
}

/**
 * One call's view of the engine's memory: regions are laid out first (byte offsets, 16-aligned),
 * then the memory grows once to hold them all and typed views are taken.
 */
export class Arena {
  private top = ARENA_BASE;
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

  /** Writes n float32 values at byte offset `at`: `values` rounded to float32, or zeros without them. */
  setF32(at: number, n: number, values?: ArrayLike<number>): void {
    this.f32.fill(0, at / 4, at / 4 + n);
    if (values) this.f32.set(values, at / 4);
  }

  /** The engine's functions (pgemm for the multiply, split across the threads when large). */
  get fns(): Engine {
    return this.e;
  }

  /** A float64 view of the memory (after commit). */
  f64(): Float64Array {
    return new Float64Array(this.e.memory.buffer);
  }

  /** A copy of n float64 values at byte offset `at` (in an ordinary, unshared buffer). */
  takeF64(at: number, n: number): Float64Array {
    const out = new Float64Array(n);
    out.set(new Float64Array(this.e.memory.buffer, at, n));
    return out;
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
  /** Threads a large matrix multiply runs on, the calling one included. */
  threads: number;
  precision: 'float32';
}

/** What the simd backend is; assembling the kernel proves WebAssembly SIMD works here. */
export async function simdInfo(): Promise<SimdInfo> {
  const e = await getEngine();
  return { engine: 'WebAssembly SIMD (f32x4), hand-written', microKernel: `${MR}×${NR}`, threads: e.threads, precision: 'float32' };
}

/**
 * How to cut `total` independent items (planes, rows) into contiguous ranges [from, count], one per
 * thread, when each thread gets at least `minEach` of them; a single range otherwise.
 */
export function ranges(threads: number, total: number, minEach: number): [number, number][] {
  const n = Math.max(1, Math.min(threads, Math.floor(total / Math.max(minEach, 1))));
  const per = Math.ceil(total / n);
  const out: [number, number][] = [];
  for (let from = 0; from < total || out.length === 0; from += per) out.push([from, Math.max(0, Math.min(per, total - from))]);
  return out;
}
