/**
 * `conformance --command`: a program speaking the line protocol as a target
 * (tests/helpers/protocol_target.py: right, wrong, unsupported, crashing and absent ops), and
 * `--cases FILE` replaying the reproducers a run wrote.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandTarget } from '../src/conformance/command.js';
import { runConformance } from '../src/conformance/run.js';
import '../src/index.js';

const ROOT = join(__dirname, '..');
const PROGRAM = `python3 ${join(ROOT, 'tests', 'helpers', 'protocol_target.py')}`;
const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'src', 'cli.ts'), ...args], { encoding: 'utf8', cwd: ROOT });

describe('conformance --command', () => {
  it('judges right, wrong, unsupported, crashing and absent ops as passed, failed, unsupported, failed, unsupported', async () => {
    const target = commandTarget(PROGRAM, { precision: 'float64' });
    const r = await runConformance(target, { ops: ['relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax'], random: 6, seed: '1', shrink: false });
    expect(r.description).toBe('protocol_target.py (a test)'); // from the hello answer
    const sum = (op: string, k: 'passed' | 'failed' | 'unsupported') => r.rows.filter((w) => w.op === op).reduce((s, w) => s + w[k], 0);
    expect(sum('relu', 'failed')).toBe(0);
    expect(sum('relu', 'passed')).toBeGreaterThan(6);
    // slope 0.1 for 0.01: every case with a negative input fails (some random case has one)
    expect(sum('leakyRelu', 'failed')).toBeGreaterThan(0);
    expect(sum('sigmoid', 'passed') + sum('sigmoid', 'failed')).toBe(0);
    expect(r.rows.find((w) => w.op === 'sigmoid')!.reasons).toEqual(['no sigmoid here']);
    expect(r.rows.find((w) => w.op === 'softmax')!.reasons).toEqual(['the submission has no function for softmax']);
    // tanh: the process dies on |x| > 3; it is restarted for the next case, 3 times in a row, then
    // tanh's remaining cases fail unrun, and the next op (softmax, above) gets a fresh process
    const crashed = r.failures.filter((f) => f.op === 'tanh');
    expect(crashed.length).toBeGreaterThan(0);
    expect(crashed[0].message).toMatch(/^threw: the program exited with status 3$/);
    expect(crashed.at(-1)!.message).toBe('threw: not run: the program died on 4 tanh cases in a row');
  }, 60_000);

  it('the CLI: exit 1 on a failure, --cases replays the reproducers, a program that cannot start is exit 2 without a stack trace', () => {
    const repro = join(tmpdir(), `cnn-oracle-repro-${process.pid}.jsonl`);
    const run = cli(['conformance', '--command', PROGRAM, '--precision', 'float64', '--ops', 'leakyRelu,relu', '--random', '4', '--no-shrink', '--reproducers', repro]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('protocol_target.py (a test) (held to the float64 error bound)');
    const lines = readFileSync(repro, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    const repro2 = `${repro}.again.jsonl`;
    const again = cli(['conformance', '--command', PROGRAM, '--precision', 'float64', '--cases', repro, '--no-shrink', '--format', 'json', '--reproducers', repro2]);
    expect(again.status).toBe(1);
    const report = JSON.parse(again.stdout) as { failures: { id: string }[]; rows: { op: string; passed: number }[] };
    // exactly the reproducers' cases, each failing again
    expect(report.failures.map((f) => f.id).sort()).toEqual(lines.map((l) => (JSON.parse(l) as { id: string }).id).sort());
    expect(report.rows.every((w) => w.op === 'leakyRelu' && w.passed === 0)).toBe(true);
    // a replayed reproducer keeps its id (not the target's name twice)
    const ids = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id).sort();
    expect(ids(repro2)).toEqual(ids(repro));
    expect(ids(repro)[0]).toMatch(/^python3 \S+protocol_target\.py\/leakyRelu\//);

    const dead = cli(['conformance', '--command', 'python3 -c "import sys; print(\'bye\', file=sys.stderr); sys.exit(4)"', '--ops', 'relu']);
    expect(dead.status).toBe(2);
    expect(dead.stderr).toMatch(/could not be started: the program exited with status 4 \(its last words on stderr: bye\)/);
    expect(dead.stderr).not.toMatch(/\n\s+at /);
    expect(cli(['conformance', '--target', 'simd', '--command', PROGRAM]).status).toBe(2);
    const bad = cli(['conformance', '--command', PROGRAM, '--cases', join(ROOT, 'package.json')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/package\.json/);
  }, 120_000);
});
