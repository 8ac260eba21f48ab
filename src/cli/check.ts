import { Option, type Command } from 'commander';
import type { Backend } from '../cases.js';
import { backendOption, EXIT, type Ctx } from './context.js';

export function register(program: Command, ctx: Ctx): void {
  program
    .command('check')
    .description('run each case and compare with its expected outputs; exit 0 only when all pass')
    .argument('<files...>', 'case files: a case, an array of cases, or JSON Lines; - for standard input')
    .addOption(backendOption())
    .addOption(new Option('-p, --precision <precision>', 'the precision the expected values are judged at (allowances and ambiguous decisions); default float64 on the reference, float32 on a fast backend').choices(['float32', 'float64']))
    .option('-q, --quiet', 'print only failures and the summary')
    .action(async (files: string[], opts: { backend: Backend; precision?: 'float32' | 'float64'; quiet?: boolean }) => {
      const cases = await ctx.loadCases(files);
      const { checkRaw } = await import('../cases.js');
      let passed = 0;
      let failed = 0;
      for (const rc of cases) {
        const r = await checkRaw(rc, opts.backend, opts.precision);
        if (r.ok) {
          passed++;
          if (!opts.quiet) ctx.out(`PASS ${r.id} (${r.op})${r.ambiguous ? ` — ${r.ambiguous}` : ''}\n`);
        } else {
          failed++;
          const [first, ...rest] = (r.message ?? '').split('\n');
          ctx.out(`FAIL ${r.id} (${r.op}): ${first}\n${rest.map((l) => '     ' + l + '\n').join('')}`);
        }
      }
      ctx.out(`${passed} passed, ${failed} failed\n`);
      ctx.exitCode = failed ? EXIT.failed : EXIT.ok;
    });
}
