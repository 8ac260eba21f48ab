/** Moved to the judging module (src/judge/admissible.ts); re-exported for code written against this path. */
export * from './judge/admissible.js';
export { unitRoundoff } from './judge/bounds.js';
