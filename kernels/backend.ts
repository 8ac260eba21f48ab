/**
 * The gpu.js runtime behind the `accelerated` backend: one GPU instance, the mode it actually runs
 * in, and a cache of compiled kernels (kernels are compiled once per op and shape; the least
 * recently used are destroyed past a bound, and everything is destroyed at exit).
 *
 * Mode: `CNN_ORACLE_GPU_MODE` (gpu | cpu | webasm | headlessgl) or gpu.js's own chain for "gpu":
 * headless-gl when a GL context can be made (an X display, e.g. under xvfb-run), else
 * WebAssembly, else its CPU mode. Every path computes in float32.
 */
import gpujs from 'gpu.js';
import type { GPU as GPUType, IKernelRunShortcut, IGPUKernelSettings, KernelFunction } from 'gpu.js';

const { GPU } = gpujs;
export const GPU_JS_VERSION = '2.24.1';

let gpu: GPUType | undefined;
// Node's process, absent when these kernels are bundled for a browser (tests/browser-gpu.test.ts)
const proc = (globalThis as { process?: NodeJS.Process }).process;
const env = (name: string): string | undefined => proc?.env[name];
const cache = new Map<string, IKernelRunShortcut>();
const CACHE_LIMIT = 96;
let lastKernelClass = '';

export function getGPU(): GPUType {
  if (!gpu) {
    const mode = (env('CNN_ORACLE_GPU_MODE') ?? 'gpu') as 'gpu' | 'cpu' | 'webasm' | 'headlessgl';
    gpu = new GPU({ mode } as never);
    // Before headless-gl's own exit handler (registered when gl loads), which frees every native GL
    // context: a kernel destroyed after it throws "Invalid GL context" from deleteBuffer.
    proc?.prependOnceListener('exit', destroyAll);
  }
  return gpu;
}

/**
 * A compiled kernel, compiled on first use. `name` names the kernel function; the cache key adds
 * the output size and the constants, so two calls share a kernel only when everything baked into it
 * agrees (a key without the output size once let padding 0 and padding "same" share a conv kernel).
 */
export function kernel(name: string, fn: KernelFunction, settings: IGPUKernelSettings): IKernelRunShortcut {
  const key = `${name}|${JSON.stringify(settings.output)}|${JSON.stringify(settings.constants ?? {})}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit); // most recently used last
    return hit;
  }
  const k = getGPU().createKernel(fn, { precision: 'single', tactic: 'precision', loopMaxIterations: 1 << 24, ...settings } as IGPUKernelSettings);
  cache.set(key, k);
  if (cache.size > CACHE_LIMIT) {
    const [oldKey, old] = cache.entries().next().value as [string, IKernelRunShortcut];
    cache.delete(oldKey);
    old.destroy();
  }
  return k;
}

/** Records the class of the kernel that actually ran (WebAssemblyKernel, HeadlessGLKernel, CPUKernel). */
export function noteRan(k: IKernelRunShortcut): void {
  const inner = (k as unknown as { kernel?: { constructor?: { name?: string } } }).kernel;
  lastKernelClass = inner?.constructor?.name ?? k.constructor.name;
}

/**
 * Destroys every cached kernel and the GPU instance, synchronously: gpu.js's own `gpu.destroy()`
 * defers its work to a timer (which never fires in an exit handler) and returns a promise, so the
 * kernels are destroyed here one by one, and then the GL context itself (headless-gl), which
 * `gpu.destroy()` would only free through a kernel it still lists.
 */
export function destroyAll(): void {
  const kernels = [...cache.values()];
  cache.clear();
  for (const k of kernels) k.destroy();
  const g = gpu as (GPUType & { context?: { getExtension?: (n: string) => { destroy?: () => void } | null } }) | undefined;
  gpu = undefined;
  if (!g) return;
  const ctx = g.context;
  void g.destroy().catch(() => undefined); // its kernels are already gone; nothing left for it to fail on
  const ext = ctx?.getExtension?.('STACKGL_destroy_context');
  ext?.destroy?.();
}

export interface BackendInfo {
  gpuJs: string;
  mode: string;
  kernelClass: string;
  headlessGL: boolean;
  webAssembly: boolean;
  display: string | null;
  precision: 'float32';
}

/** What the accelerated backend is, found by running a one-element kernel. */
export function backendInfo(): BackendInfo {
  const k = kernel('probe', function (this: { thread: { x: number } }) {
    return this.thread.x;
  } as KernelFunction, { output: [1] });
  k();
  noteRan(k);
  return {
    gpuJs: GPU_JS_VERSION,
    mode: env('CNN_ORACLE_GPU_MODE') ?? 'gpu',
    kernelClass: lastKernelClass,
    headlessGL: Boolean((GPU as unknown as { isHeadlessGLSupported: boolean }).isHeadlessGLSupported),
    webAssembly: Boolean((GPU as unknown as { isWebAssemblySupported?: boolean }).isWebAssemblySupported),
    display: env('DISPLAY') ?? null,
    precision: 'float32',
  };
}

export const ranWith = (): string => lastKernelClass;
