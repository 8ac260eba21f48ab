/**
 * The command line, in process: `cli(args)` runs the program of src/cli/index.ts as the bin would
 * and returns what it wrote and its exit status, the shape of spawnSync's result. `env` and `cwd`
 * apply for the one run (tests in a file run one at a time). `spawnCli` runs the built bin, for the
 * few tests about the process itself.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { run } from '../../src/cli/index.js';

export const ROOT = join(__dirname, '..', '..');
export const BIN = join(ROOT, 'dist', 'src', 'cli.js');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const saved = Object.fromEntries(Object.keys(opts.env ?? {}).map((k) => [k, process.env[k]]));
  const cwd = process.cwd();
  Object.assign(process.env, opts.env);
  if (opts.cwd) process.chdir(opts.cwd);
  try {
    const status = await run(args, {
      stdout: (s) => void (stdout += s),
      stderr: (s) => void (stderr += s),
      stdin: () => opts.input ?? '',
    });
    return { status, stdout, stderr };
  } finally {
    process.chdir(cwd);
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export const spawnCli = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { input: opts.input, encoding: 'utf8', cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, timeout: 120000 });
