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
const cache = new Map<string, IKernelRunShortcut>();
const CACHE_LIMIT = 96;
let lastKernelClass = '';

export function getGPU(): GPUType {
  if (!gpu) {
    const mode = (process.env.CNN_ORACLE_GPU_MODE ?? 'gpu') as 'gpu' | 'cpu' | 'webasm' | 'headlessgl';
    gpu = new GPU({ mode } as never);
    process.once('exit', destroyAll);
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

export function destroyAll(): void {
  for (const k of cache.values()) k.destroy();
  cache.clear();
  gpu?.destroy();
  gpu = undefined;
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
    mode: process.env.CNN_ORACLE_GPU_MODE ?? 'gpu',
    kernelClass: lastKernelClass,
    headlessGL: Boolean((GPU as unknown as { isHeadlessGLSupported: boolean }).isHeadlessGLSupported),
    webAssembly: Boolean((GPU as unknown as { isWebAssemblySupported?: boolean }).isWebAssemblySupported),
    display: process.env.DISPLAY ?? null,
    precision: 'float32',
  };
}

export const ranWith = (): string => lastKernelClass;
