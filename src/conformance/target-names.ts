/**
 * The built-in conformance targets' names, in a module that imports nothing, so that the CLI can
 * list them in its help without loading the targets (targets.ts re-exports them).
 */
export const TARGETS = ['accelerated', 'simd', 'tfjs-cpu', 'tfjs-wasm', 'onnxruntime', 'convnetjs', 'pytorch', 'pytorch-float64'] as const;
