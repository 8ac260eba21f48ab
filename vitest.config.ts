import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// At least two test files at a time, even on a 2-core machine (where vitest's default is one): the
// slowest files (sandbox, integrity, grading) mostly wait on sandboxed child processes, so a second
// worker overlaps them with the CPU-bound files. Measured on the 2-vCPU CI machine, idle, all 704
// tests passing: 541 s with one worker, 330 s with two.
//
// isolate: false — the files a worker runs share its process and its loaded modules, instead of a
// fresh process per file: every file imports the op registry, the kernels and gpu.js, which each
// worker now loads once instead of once per file. Measured one after the other on the 2-vCPU
// machine (same tree, both under the same other load): 208 s isolated, 168 s shared. The rule that
// comes with it: a test file that changes process-wide state (environment variables, the budget)
// puts it back when it is done (afterAll), as simd-fallback, integrity and fuzz do; the CLI's run()
// leaves no budget behind.
export default defineConfig({
  test: { maxWorkers: Math.max(2, availableParallelism() - 1), isolate: false },
});
