import type { Command } from 'commander';
import type { Backend } from '../cases.js';
import { backendOption, EXIT, type Ctx } from './context.js';

export function register(program: Command, ctx: Ctx): void {
  program
    .command('eval')
    .description('run each case on a backend and print one JSON line of outputs per case')
    .argument('<files...>', 'case files: a case, an array of cases, or JSON Lines; - for standard input')
    .addOption(backendOption())
    .option('-o, --out <file>', 'write the JSON Lines there instead of standard output')
    .action(async (files: string[], opts: { backend: Backend; out?: string }) => {
      const cases = await ctx.loadCases(files);
      const { evaluateRaw } = await import('../cases.js');
      const { stringify } = await import('../tensor.js');
      const out = ctx.openOut(opts.out);
      let errors = 0;
      for (const rc of cases) {
        const { result } = await evaluateRaw(rc, opts.backend);
        if (result.error) errors++;
        out.write(stringify(result) + '\n');
      }
      await out.close();
      ctx.exitCode = errors ? EXIT.failed : EXIT.ok;
    });
}
