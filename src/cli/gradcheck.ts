import type { Command } from 'commander';
import { OracleError } from '../errors.js';
import { EXIT, type Ctx } from './context.js';

export function register(program: Command, ctx: Ctx): void {
  program
    .command('gradcheck')
    .description('check backward cases against central differences of the forward reference')
    .argument('<files...>', 'case files of backward ops (inputs include dy); - for standard input')
    .option('--tol <x>', 'largest relative error that passes', '1e-5')
    .action(async (files: string[], opts: { tol: string }) => {
      const tol = Number(opts.tol);
      if (!(tol > 0)) ctx.fail(`--tol must be a positive number, got ${JSON.stringify(opts.tol)}`);
      const cases = await ctx.loadCases(files);
      const { prepareCase } = await import('../cases.js');
      const { gradCheck } = await import('../gradcheck.js');
      let passed = 0;
      let failed = 0;
      for (const rc of cases) {
        try {
          if (rc.error) throw rc.error;
          const c = prepareCase(rc.value, rc.index);
          if (!c.op.backward) throw new OracleError('INVALID_CASE', `${c.op.name} is not a backward op (try ${c.op.name}Backward)`, '/op');
          const entries = gradCheck(c.op, c.inputs, c.params);
          const bad = entries.filter((e) => e.maxRelError > tol);
          const words = entries.map((e) => `${e.output} ${e.maxRelError.toExponential(1)}${e.kinks ? ` (${e.kinks} kink${e.kinks > 1 ? 's' : ''} skipped)` : ''}`).join(', ');
          if (bad.length) {
            failed++;
            const e = bad[0];
            ctx.out(`FAIL ${c.id}: ${e.output} relative error ${e.maxRelError.toExponential(2)} at (${e.index.join(', ')}): analytic ${e.analytic}, numeric ${e.numeric}\n`);
          } else {
            passed++;
            ctx.out(`PASS ${c.id}: ${words}\n`);
          }
        } catch (e) {
          failed++;
          const err = e instanceof OracleError ? e : new OracleError('INTERNAL', String((e as Error).message));
          ctx.out(`FAIL ${rc.where}: error ${err.code}${err.path ? ' at ' + err.path : ''}: ${err.message}\n`);
        }
      }
      ctx.out(`${passed} passed, ${failed} failed\n`);
      ctx.exitCode = failed ? EXIT.failed : EXIT.ok;
    });
}
