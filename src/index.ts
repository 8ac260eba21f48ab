/** The library API of cnn-oracle. */
import './ops/index.js';
export * from './errors.js';
export * from './exact.js';
export * from './tensor.js';
export * from './registry.js';
export * from './judge/index.js';
export * from './cases.js';
export * from './params.js';
export { Rng, hashSeed } from './rng.js';
export { conv1dRef, conv2dRef, convolveRef } from './reference/conv.js';
export { linearRef, flattenRef, dropoutRef } from './reference/dense.js';
export { reluRef, leakyReluRef, sigmoidRef, tanhRef, softmaxRef } from './reference/activation.js';
export { crossEntropyRef, mseLossRef } from './reference/loss.js';
export { gradCheck, type GradCheckEntry, type GradCheckOptions } from './gradcheck.js';
export { caseWithExpected, buildFixtures } from './fixtures.js';
