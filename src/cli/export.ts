import type { Command } from 'commander';
import { PLATFORMS, type Platform } from '../grading/names.js';
import type { Ctx } from './context.js';

export function register(program: Command, ctx: Ctx): void {
  program
    .command('export')
    .description('write what a platform needs to grade with cnn-oracle, one container per submission: a Gradescope autograder zip, PrairieLearn external-grader files, a GitHub Classroom workflow')
    .argument('<platform>', PLATFORMS.join(', '))
    .argument('<assignment>', 'the assignment file (its case files go along)')
    .requiredOption('-o, --out <path>', 'the zip (gradescope) or folder (prairielearn, classroom) to write')
    .option('-c, --command <cmd>', 'how each submission runs (any language), as in grade --command')
    .option('--adapter <file>', 'instructor adapter module')
    .action(async (platform: string, assignment: string, opts: { out: string; command?: string; adapter?: string }) => {
      if (!(PLATFORMS as readonly string[]).includes(platform)) ctx.fail(`unknown platform ${JSON.stringify(platform)} (${PLATFORMS.join(', ')})`);
      const { loadAssignment } = await import('../grading/assignment.js');
      const { exportTo } = await import('../grading/export.js');
      const files = ctx.orExit(() => {
        loadAssignment(assignment);
        return exportTo(platform as Platform, { assignment, out: opts.out, command: opts.command, adapter: opts.adapter });
      });
      ctx.out(`${opts.out}: ${files.length} files for ${platform} (${files.filter((f) => !f.includes('/cases/') && !f.startsWith('cases/')).join(', ')}${files.some((f) => /(^|\/)cases\//.test(f)) ? ', and the case files' : ''})\n`);
    });
}
