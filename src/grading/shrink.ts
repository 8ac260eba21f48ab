/** Moved to the judging module (src/judge/shrink.ts); re-exported for code written against this path. */
export * from '../judge/shrink.js';
