/**
 * The names of the backends, apart from the registry so that the CLI can offer them as choices
 * without loading the ops (registry.ts re-exports them; import them from there elsewhere).
 */

/** The float32 backends beside the exact reference: `accelerated` (gpu.js), `simd` (WebAssembly SIMD). */
export const FAST_BACKENDS = ['accelerated', 'simd'] as const;
export type FastBackend = (typeof FAST_BACKENDS)[number];
export type Backend = 'reference' | FastBackend;
export const BACKENDS: readonly Backend[] = ['reference', ...FAST_BACKENDS];
