/** Moved to the judging module (src/judge/compare.ts); re-exported for code written against this path. */
export * from './judge/compare.js';
