/**
 * The judging core, one module for `check` (cases.ts), grading (grading/ladder.ts, grade.ts) and
 * conformance: error bounds and allowances (bounds.ts), element-by-element comparison
 * (compare.ts), set-valued expectations at decision boundaries (admissible.ts), and shrinking a
 * failing case (shrink.ts).
 */
export * from './bounds.js';
export * from './compare.js';
export * from './admissible.js';
export * from './shrink.js';
