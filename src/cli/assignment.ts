import type { Command } from 'commander';
import { Exit, type Ctx } from './context.js';

export function register(program: Command, ctx: Ctx): void {
  program
    .command('assignment')
    .description('print the built-in assignment, the assignment JSON Schema, or check an assignment file')
    .argument('[file]', 'an assignment file to check')
    .option('--default', 'print the built-in assignment (every op)')
    .option('--schema', 'print the JSON Schema of assignment files')
    .action(async (file: string | undefined, opts: { default?: boolean; schema?: boolean }) => {
      const { assignmentSchema, collectCases, defaultAssignmentJSON } = await import('../grading/assignment.js');
      if (opts.schema) return void ctx.out(JSON.stringify(assignmentSchema, null, 2) + '\n');
      if (opts.default || !file) return void ctx.out(JSON.stringify(defaultAssignmentJSON(), null, 2) + '\n');
      const a = await ctx.assignmentOrExit(file);
      let cases = 0;
      try {
        for (const t of a.tests) cases += (await collectCases(a, t, 'check')).length;
      } catch (e) {
        if (e instanceof Exit) throw e;
        ctx.fail((e as Error).message);
      }
      ctx.out(`${file}: ${a.tests.length} tests, ${a.tests.reduce((s, t) => s + t.points, 0)} points, ${cases} cases for one student\n`);
    });
}
