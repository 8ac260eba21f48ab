import type { Command } from 'commander';
import type { Ctx } from './context.js';

export function register(program: Command, ctx: Ctx): void {
  program
    .command('sandbox')
    .description('say how this machine contains submissions: the sandbox mode grading would use, and why not a better one')
    .option('--json', 'machine-readable')
    .action(async (opts: { json?: boolean }) => {
      const { capabilities, chooseMode, uidBase } = await import('../sandbox/capabilities.js');
      const caps = capabilities();
      const mode = ctx.orExit(() => chooseMode());
      if (opts.json) return void ctx.out(JSON.stringify({ mode, ...caps }, null, 2) + '\n');
      const what: Record<string, string> = {
        bwrap: 'bubblewrap: own mount, PID, network and user namespaces; a non-root uid without capabilities' + (caps.root ? ', and a dedicated unprivileged uid on the host' : ''),
        uid: `a dedicated unprivileged uid (from ${uidBase()}), the grader's files checked unreadable to it` + (caps.netns ? ', no network' : ', WITH network access (the container must cut it off)'),
        none: 'NONE: grading refuses to run submissions unless --unsafe-no-sandbox is given',
      };
      ctx.out(`sandbox: ${mode} — ${what[mode]}\n`);
      for (const n of caps.notes) ctx.out(`  note: ${n}\n`);
      ctx.out('limits (per assignment): time per case, start-up budget, memory of all processes together, tasks, file size; see the README, Isolation\n');
    });
}
