/**
 * The engine of the `simd` backend: the WebAssembly module of wat.ts, assembled once per process
 * with wabt and instantiated over one shared linear memory that grows as the work needs (and is
 * reused, never shrunk), and an Arena that lays out one call's regions in it.
 *
 * Threads: the matrix multiply is cut into work items (a range of column blocks whose B fits half
 * an L2 × a range of A's row panels, so every panel streams past a hot B once) shared between the
 * calling thread and worker threads that run the same module over the same memory
 * (CNN_ORACLE_SIMD_THREADS, default the number of cores, at most 4). The calling thread posts the
 * job in each worker's control slot at the bottom of the memory and wakes it with Atomics.notify;
 * every thread then takes items from a shared counter (Atomics.add) until none is left, so the
 * split adapts to a thread that starts late or is slowed down; the caller waits for each worker's
 * done flag with Atomics.wait: no messages, no promises. The other phases (padding the image,
 * gathering panels, unpacking C, depthwise, pooling, softmax, batch norm) split their planes or
 * rows the same way through parallel(). Workers are unref'd, so they never keep the process
 * alive. Small multiplies run on the calling thread alone.
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import wabtInit from 'wabt';
import { MR, NR, moduleWat, type Kernels } from './wat.js';

export { MR, NR };

/** gemm's arguments (wat.ts): A rows lda bytes apart, B blocks from bases[] + koff[k], C rows ldc floats wide. */
type GemmArgs = [a: number, lda: number, koff: number, bases: number, c: number, mb: number, nb: number, k: number, ldc: number];

interface Engine extends Kernels {
  memory: WebAssembly.Memory;
  /** Threads that run a large multiply, the calling one included. */
  threads: number;
  /** Whether the multiply-adds are relaxed SIMD's f32x4.relaxed_madd (else f32x4.mul + f32x4.add). */
  relaxed: boolean;
  /**
   * The matrix multiply, cache-blocked and split across the threads when it is large: `blockBytes`
   * is about how many bytes of B one column block reads (K·32 for packed panels, less for the
   * implicit convolution, whose blocks share image rows).
   */
  pgemm: (...args: [...GemmArgs, blockBytes?: number]) => void;
  /** Calls a function once per part (argument lists of independent pieces of work), the parts spread over the threads. */
  parallel: (name: Callable, parts: number[][]) => void;
}

const engines = new Map<boolean, Promise<Engine>>();

/**
 * Control slots at the bottom of the memory, one per worker, SLOT_INTS ints each:
 * [0] go (1: a share of a gemm, 2: one call), [1] done, [2] the called function, [3] its argument
 * count, [4..16] the gemm arguments and blocking, from [16] a call's arguments as float64.
 */
const SLOT_INTS = 64;
const MAX_THREADS = 4;
/** The shared counter of the next work item to take (an int index, after the slots). */
const COUNTER = SLOT_INTS * MAX_THREADS;
/** Where the Arena starts: after the control slots and the counter. */
const ARENA_BASE = 2048;
/** Multiply-adds below which a multiply stays on the calling thread (waking a worker costs ~50 µs). */
const PARALLEL_MIN = 1 << 20;
/** Inner-loop steps a thread should get at least before a loop is split (waking one costs ~50 µs). */
export const SPLIT_MIN = 1 << 16;
/** Bytes of B one work item of a multiply may touch: half of a 1 MB L2, so A's panels stream past it. */
const B_BUDGET = 1 << 19;
/** The functions a worker may be asked to call (split by their callers into independent parts). */
const CALLABLE = ['maxpool', 'avgpool', 'softmax', 'boxiou', 'bnapply', 'unpack', 'dwconv', 'gather', 'padcopy'] as const;
export type Callable = (typeof CALLABLE)[number];

/**
 * Work item t of a blocked multiply: column chunk ⌊t / obN⌋ of ncb blocks × panel chunk t mod obN
 * of nob panels, as gemm's arguments. Plain JavaScript text, so the worker source below runs the
 * very same arithmetic (a function's toString() would carry whatever a TypeScript transform added).
 */
const ITEM_BODY = `const [a, lda, koff, bases, c, mb, nb, k, ldc, ncb, nob, obN] = g;
  const cb0 = Math.floor(t / obN) * ncb;
  const ob0 = (t % obN) * nob;
  return [a + ob0 * ${MR} * lda, lda, koff, bases + 4 * cb0, c + 4 * (ob0 * ${MR} * ldc + cb0 * ${NR}), Math.min(nob, mb - ob0), Math.min(ncb, nb - cb0), k, ldc];`;
const item = new Function('g', 't', ITEM_BODY) as (g: number[], t: number) => GemmArgs;

// Plain JavaScript for worker_threads' eval mode: instantiate the module over the shared memory,
// then, each time this worker's slot says go, either take work items of a gemm from the shared
// counter until none is left (so a thread that starts late, or is slowed down, just takes fewer),
// or make the one call it was given.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, slot } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const names = ${JSON.stringify(CALLABLE)};
function item(g, t) {
  ${ITEM_BODY}
}
for (;;) {
  Atomics.wait(new Int32Array(memory.buffer), slot, 0);
  const v = new Int32Array(memory.buffer);
  if (v[slot] === 1) {
    const g = Array.from(v.subarray(slot + 4, slot + 17));
    for (;;) {
      const t = Atomics.add(v, ${COUNTER}, 1);
      if (t >= g[12]) break;
      ex.gemm(...item(g, t));
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

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
const assemble = (wabt: Wabt, text: string, relaxed: boolean): Uint8Array<ArrayBuffer> => {
  const parsed = wabt.parseWat('cnn-oracle.wat', text, { simd: true, threads: true, bulk_memory: true, relaxed_simd: relaxed });
  try {
    return parsed.toBinary({}).buffer as Uint8Array<ArrayBuffer>;
  } finally {
    parsed.destroy();
  }
};

/**
 * Whether relaxed SIMD works here: Node 20 has it behind --experimental-wasm-relaxed-simd, which
 * can be set at run time before a module using it is compiled; a tiny module must then validate
 * and compute a·b + c.
 */
function relaxedAvailable(wabt: Wabt): boolean {
  try {
    const probe = assemble(wabt, `(module (func (export "f") (param f32 f32 f32) (result f32)
      (f32x4.extract_lane 0 (f32x4.relaxed_madd (f32x4.splat (local.get 0)) (f32x4.splat (local.get 1)) (f32x4.splat (local.get 2))))))`, true);
    if (!WebAssembly.validate(probe)) setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (!WebAssembly.validate(probe)) return false;
    const f = new WebAssembly.Instance(new WebAssembly.Module(probe)).exports.f as (a: number, b: number, c: number) => number;
    return f(3, 5, 7) === 22;
  } catch {
    return false;
  }
}

/**
 * Assembles and instantiates the module once per process (with relaxed SIMD where it works, unless
 * `relaxed: false` is asked for or CNN_ORACLE_SIMD_RELAXED=0 is set), and starts its worker threads.
 */
export function getEngine(o: { relaxed?: boolean } = {}): Promise<Engine> {
  const key = o.relaxed ?? process.env.CNN_ORACLE_SIMD_RELAXED !== '0';
  let engine = engines.get(key);
  if (!engine) {
    engine = makeEngine(key);
    engines.set(key, engine);
  }
  return engine;
}

async function makeEngine(wantRelaxed: boolean): Promise<Engine> {
  const wabt = await wabtInit();
  const relaxed = wantRelaxed && relaxedAvailable(wabt);
  const buffer = assemble(wabt, moduleWat({ relaxed }), relaxed);
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
  const module = new WebAssembly.Module(buffer);
  const x = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernels;
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
  const pgemm: Engine['pgemm'] = (a, lda, koff, bases, c, mb, nb, k, ldc, blockBytes = 32 * k) => {
    if (mb === 0 || nb === 0) return;
    const big = mb * nb * k * MR * NR >= PARALLEL_MIN;
    const threads = big ? workers.length + 1 : 1;
    // column chunks whose B fits the budget; panel chunks enough for every thread to take several
    const ncb = Math.max(1, Math.min(nb, Math.floor(B_BUDGET / Math.max(blockBytes, 1))));
    const cbN = Math.ceil(nb / ncb);
    const nob = Math.ceil(mb / Math.min(mb, threads > 1 ? Math.ceil((4 * threads) / cbN) : 1));
    const obN = Math.ceil(mb / nob);
    const g = [a, lda, koff, bases, c, mb, nb, k, ldc, ncb, nob, obN, cbN * obN];
    if (threads < 2) {
      for (let t = 0; t < g[12]; t++) x.gemm(...item(g, t));
      return;
    }
    const v = new Int32Array(memory.buffer);
    Atomics.store(v, COUNTER, 0);
    const busy = workers.slice(0, Math.min(workers.length, g[12] - 1));
    for (const slot of busy) {
      v.set(g, slot + 4);
      wake(v, slot, 1);
    }
    for (;;) {
      const t = Atomics.add(v, COUNTER, 1);
      if (t >= g[12]) break;
      x.gemm(...item(g, t));
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
    if (parts.length > 0) fn(...parts[0]);
    for (const args of parts.slice(1 + workers.length)) fn(...args);
    join(v, busy);
  };
  return { ...x, memory, threads: workers.length + 1, relaxed, pgemm, parallel };
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
    if (values) this.putF32(at, values);
  }

  /** The engine's functions (pgemm for the multiply, split across the threads when large). */
  get fns(): Engine {
    return this.e;
  }

  /** A float64 view of the memory (after commit). */
  f64(): Float64Array {
    return new Float64Array(this.e.memory.buffer);
  }

  /**
   * Writes `values` as float32 at byte offset `at`. (A plain loop: TypedArray.prototype.set into
   * shared memory copies element by element with atomics-safe stores, 2–3× slower here.)
   */
  putF32(at: number, values: ArrayLike<number>): void {
    const f = this.f32;
    const o = at / 4;
    for (let i = 0; i < values.length; i++) f[o + i] = values[i];
  }

  /** The n float32 values at byte offset `at` as a new float64 array (unshared; the fastest copy out of shared memory measured here). */
  takeF32(at: number, n: number): Float64Array {
    return new Float64Array(new Float32Array(this.e.memory.buffer, at, n));
  }

  /** A copy of n float64 values at byte offset `at` (in an ordinary, unshared buffer). */
  takeF64(at: number, n: number): Float64Array {
    const out = new Float64Array(n);
    out.set(new Float64Array(this.e.memory.buffer, at, n));
    return out;
  }
}

/**
 * Writes the M × K matrix A[row][k] = src[base + row·rowStride + k·colStride] row-major (rows K
 * floats apart, as gemm reads it with lda = 4·K), rounding to float32, with zero rows up to whole
 * MR-row panels. (conv2d and linear need no such copy: their weights are already row-major.)
 */
export function packA(dst: Float32Array, offset: number, src: ArrayLike<number>, M: number, K: number, rowStride: number, colStride: number, base: number): void {
  let t = offset / 4;
  for (let row = 0; row < Math.ceil(M / MR) * MR; row++) {
    const at = base + row * rowStride;
    if (row >= M) for (let k = 0; k < K; k++) dst[t++] = 0;
    else for (let k = 0; k < K; k++) dst[t++] = src[at + k * colStride];
  }
}

export interface SimdInfo {
  engine: string;
  microKernel: string;
  /** Threads a large matrix multiply runs on, the calling one included. */
  threads: number;
  /** Whether the multiply-adds are fused (relaxed SIMD's f32x4.relaxed_madd). */
  relaxed: boolean;
  precision: 'float32';
}

/** What the simd backend is; assembling the kernel proves WebAssembly SIMD works here. */
export async function simdInfo(): Promise<SimdInfo> {
  const e = await getEngine();
  return { engine: `WebAssembly SIMD (f32x4${e.relaxed ? ', relaxed_madd' : ''}), hand-written`, microKernel: `${MR}×${NR}`, threads: e.threads, relaxed: e.relaxed, precision: 'float32' };
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
