// A TypeScript submission for examples/assignments/intro.json, as a folder (graded without a build
// step): index.ts is its entry and imports the other modules. Its conv2d has a classic bug.
export { conv2d } from './conv.js';
export { maxPool2d } from './pool.js';
export { relu, linear, softmax } from './dense.js';
export { batchNorm } from './norm.js';
