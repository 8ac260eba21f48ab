/**
 * `conformance --matrix` (issue 13): the op × target table built from runConformance's reports —
 * pass N, FAIL k/N, — (unsupported), n/a (not available here).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import '../src/ops/index.js';
import { buildMatrix, cellText, matrixText, runMatrix } from '../src/conformance/matrix.js';
import { ownTarget } from '../src/conformance/targets.js';
import type { TargetAdapter } from '../src/conformance/adapter.js';
import type { Report } from '../src/conformance/run.js';
import { fromData } from '../src/tensor.js';

const ROOT = join(__dirname, '..');
const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'src', 'cli.ts'), ...args], { encoding: 'utf8', cwd: ROOT });

const row = (op: string, region: string, passed: number, failed: number, unsupported: number, notRun?: number) => ({ op, region, passed, failed, unsupported, worstUlp: 0, worstRel: 0, worstRatio: 0, reasons: [], ...(notRun ? { notRun } : {}) });
const report = (target: string, rows: ReturnType<typeof row>[]): Report => ({ target, description: target, precision: 'float32', rows, failures: [] });

describe('buildMatrix', () => {
  it('sums an op’s regions per target; a failure anywhere fails the cell; no judged case is —, or not run after a trap; a target that did not run is n/a', () => {
    const m = buildMatrix(
      [
        { target: 'a', report: report('a', [row('relu', 'defaults', 5, 0, 1), row('relu', 'inplace', 2, 0, 0), row('conv2d', 'defaults', 3, 1, 0), row('conv2d', 'groups', 4, 0, 0), row('nms', 'defaults', 0, 0, 3)]) },
        { target: 'b', unavailable: 'torch is not installed\nsecond line' },
        // c trapped during conv2d: its last 2 conv2d cases and every relu case were not run
        { target: 'c', report: report('c', [row('conv2d', 'defaults', 6, 0, 0), row('conv2d', 'groups', 0, 0, 3, 2), row('relu', 'defaults', 0, 0, 4, 4)]) },
      ],
      ['conv2d', 'relu', 'nms'],
    );
    expect(m.targets).toEqual([{ name: 'a', precision: 'float32' }, { name: 'b', unavailable: 'torch is not installed\nsecond line' }, { name: 'c', precision: 'float32' }]);
    const text = (op: string) => ['a', 'b', 'c'].map((t) => cellText(m.cells[op][t]));
    expect(text('conv2d')).toEqual(['FAIL 1/8', 'n/a', 'pass 6, 2 not run']);
    expect(text('relu')).toEqual(['pass 7', 'n/a', 'not run']);
    expect(text('nms')).toEqual(['—', 'n/a', '—']);
    expect(m.cells.relu.a).toEqual({ status: 'passed', passed: 7, failed: 0, unsupported: 1, notRun: 0 });
    expect(matrixText(m)).toBe(
      [
        'op      a         b    c                ',
        'conv2d  FAIL 1/8  n/a  pass 6, 2 not run',
        'relu    pass 7    n/a  not run          ',
        'nms     —         n/a  —                ',
        '',
        'pass N: all N judged cases passed; FAIL k/N: k of N failed; —: not supported by the target; n/a: the target is not available here',
        'not run: the target broke earlier in its run (a trapped WebAssembly instance); --ops runs the op alone',
        '',
        'not available here:',
        '  b: torch is not installed',
        '',
        'failing (rerun one for its report and reproducing cases):',
        '  cnn-oracle conformance --target a --ops conv2d',
        '',
      ].join('\n'),
    );
    expect(matrixText(m, true).split('\n').slice(0, 3)).toEqual(['| op | a | b | c |', '|---|---|---|---|', '| conv2d | FAIL 1/8 | n/a | pass 6, 2 not run |']);
  });
});

describe('runMatrix on simd and accelerated (seed 1, 2 random cases per op)', () => {
  // hardswish: both backends; nms: simd only; a target whose hardswish answers 10⁹ everywhere fails every case
  const wrong: TargetAdapter = { name: 'wrong', description: 'hardswish = 1e9', precision: 'float32', ops: { hardswish: { run: (i) => ({ y: fromData(new Float64Array(i.x.data.length).fill(1e9), i.x.shape) }) } } };
  const load = async (name: string): Promise<TargetAdapter> => {
    if (name === 'simd' || name === 'accelerated') return ownTarget(name);
    if (name === 'wrong') return wrong;
    throw new Error(`the ${name} target needs a library that is not installed`);
  };

  it('exact cells: pass/FAIL counts from the runs, — where the target has no kernel, n/a where it cannot load', async () => {
    const m = await runMatrix(['simd', 'accelerated', 'wrong', 'absent'], load, { ops: ['hardswish', 'nms'], random: 2, seed: '1' });
    expect(m.ops).toEqual(['hardswish', 'nms']); // catalogue order
    const cells = Object.fromEntries(m.ops.map((op) => [op, m.targets.map((t) => cellText(m.cells[op][t.name]))]));
    expect(cells).toEqual({
      hardswish: ['pass 10', 'pass 10', 'FAIL 10/10', 'n/a'],
      nms: ['pass 18', '—', '—', 'n/a'],
    });
    expect(m.targets.find((t) => t.name === 'absent')!.unavailable).toBe('the absent target needs a library that is not installed');
  }, 60_000);

  it('the CLI prints the table and exits 0 when no cell fails; bad --targets or --ops are exit 2', () => {
    const r = cli(['conformance', '--matrix', '--targets', 'simd,accelerated', '--ops', 'hardswish,nms', '--random', '2', '--seed', '1']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['op         simd     accelerated', 'hardswish  pass 10  pass 10    ', 'nms        pass 18  —          ']);
    expect(cli(['conformance', '--matrix', '--targets', 'simd,nosuch']).status).toBe(2);
    expect(cli(['conformance', '--matrix', '--ops', 'nosuch']).status).toBe(2);
    expect(cli(['conformance', '--matrix', '--target', 'simd']).status).toBe(2);
  }, 60_000);
});
