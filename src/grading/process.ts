/**
 * Running a submission in a child process, isolated as far as this machine allows:
 * - a time limit per request (the process is killed and restarted on the next request);
 * - a memory limit (resident size polled every 25 ms; V8's heap capped for JS);
 * - no network (a fresh network namespace, `unshare -n`, where the kernel allows it);
 * - no access to the grader's files: for JS/TS submissions Node's permission model lets the
 *   module read only its own folder (plus the runner's dependencies) and write only to a scratch
 *   folder; for other programs a mount namespace hides the fixture folders behind empty tmpfs.
 * What the isolation actually was is recorded with the results.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, mkdtempSync, rmSync, existsSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Request, Response } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export type SubmissionSpec =
  | { kind: 'js'; file: string; adapter?: string; /** more files or folders it may read (instructor's choice) */ readable?: string[] }
  | { kind: 'command'; command: string; cwd: string };

export interface Limits {
  memoryMb: number;
}

export interface Isolation {
  network: 'none' | 'host';
  files: 'permission-model' | 'hidden-fixtures' | 'none';
  notes: string[];
}

export type Outcome =
  | { ok: true; response: Response; ms: number }
  | { ok: false; kind: 'timeout' | 'crash' | 'memory'; message: string; ms: number };

let unshareWorks: boolean | undefined;
/** Whether unprivileged network and mount namespaces are available here. */
export function namespacesAvailable(): boolean {
  if (unshareWorks === undefined) {
    const r = spawnSync('unshare', ['-rmn', 'true'], { stdio: 'ignore', timeout: 5000 });
    unshareWorks = r.status === 0;
  }
  return unshareWorks;
}

/** Resolves a submission path (file, or folder with package.json main / index.*) to a module file. */
export function resolveSubmissionFile(path: string): string {
  const p = resolve(path);
  if (!existsSync(p)) throw new Error(`${path}: no such file or folder`);
  if (statSync(p).isFile()) return p;
  const pkg = join(p, 'package.json');
  if (existsSync(pkg)) {
    const main = (JSON.parse(readFileSync(pkg, 'utf8')) as { main?: string }).main;
    if (main && existsSync(join(p, main))) return join(p, main);
  }
  for (const f of ['index.ts', 'index.mts', 'index.js', 'index.mjs', 'index.cjs']) if (existsSync(join(p, f))) return join(p, f);
  throw new Error(`${path}: a folder submission needs package.json "main" or an index.{ts,js,mjs} file (found: ${readdirSync(p).join(', ') || 'nothing'})`);
}

/** Folders the JS runner needs to read: its own code and the packages it loads. */
function runnerReadable(): string[] {
  const pkgDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
  const dirs = [DIST_SRC]; // the runner and the modules it imports (tensor.js, …)
  for (const name of ['ndarray', 'iota-array', 'is-buffer', 'tsx', 'esbuild', 'get-tsconfig', 'resolve-pkg-maps']) {
    try {
      dirs.push(pkgDir(name));
    } catch {
      /* optional */
    }
  }
  try {
    dirs.push(dirname(require.resolve(`@esbuild/${process.platform}-${process.arch}/package.json`)));
  } catch {
    /* esbuild may carry its binary elsewhere */
  }
  return dirs;
}

/** The compiled runner and the dist/src folder it loads from (also when the grader runs from src/ under a test runner). */
const DIST_SRC = (() => {
  if (existsSync(join(here, 'runner.js'))) return resolve(here, '..');
  let d = here;
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return join(d, 'dist', 'src');
})();
const RUNNER = join(DIST_SRC, 'grading', 'runner.js');

/**
 * Distinct folders with those inside another one dropped: Node 20's permission model aborts on
 * overlapping entries (an assertion in its path tree).
 */
export function outermost(dirs: string[]): string[] {
  const norm = [...new Set(dirs.map((d) => resolve(d)))].sort();
  return norm.filter((d) => !norm.some((o) => o !== d && d.startsWith(o + sep)));
}

export class SubmissionProcess {
  private child?: ChildProcess;
  private pending = new Map<string, (o: Outcome) => void>();
  private log: string[] = [];
  private logBytes = 0;
  private scratch: string;
  private startedAt = 0;
  private exitNote = '';
  readonly isolation: Isolation;

  constructor(
    private spec: SubmissionSpec,
    private limits: Limits,
    /** Folders the submission must not read (fixtures, the assignment). */
    private hidden: string[] = [],
  ) {
    this.scratch = mkdtempSync(join(tmpdir(), 'cnn-oracle-scratch-'));
    const ns = namespacesAvailable();
    const notes: string[] = [];
    if (!ns) notes.push('network and mount namespaces are not available here (unshare -rmn failed): the submission has network access');
    this.isolation = {
      network: ns ? 'none' : 'host',
      files: spec.kind === 'js' ? 'permission-model' : ns ? 'hidden-fixtures' : 'none',
      notes,
    };
    if (spec.kind === 'command' && !ns) notes.push('other programs can read the grader’s files here: grade inside a container (Gradescope, PrairieLearn) or as another user');
  }

  private argv(): { cmd: string; args: string[]; cwd: string } {
    const ns = namespacesAvailable();
    if (this.spec.kind === 'js') {
      const subDir = dirname(this.spec.file);
      const reads = [subDir, this.scratch, ...runnerReadable(), ...(this.spec.adapter ? [dirname(this.spec.adapter)] : []), ...(this.spec.readable ?? [])];
      const tsxLoader = join(dirname(require.resolve('tsx/package.json')), 'dist', 'loader.mjs');
      const nodeArgs = [
        '--no-warnings',
        '--experimental-permission',
        '--allow-worker',
        ...outermost(reads).map((d) => `--allow-fs-read=${existsSync(d) && statSync(d).isFile() ? d : d + sep}`),
        `--allow-fs-write=${this.scratch}${sep}`,
        `--max-old-space-size=${this.limits.memoryMb}`,
        '--import',
        `file://${tsxLoader}`,
        RUNNER,
        this.spec.file,
        ...(this.spec.adapter ? [this.spec.adapter] : []),
      ];
      if (ns) return { cmd: 'unshare', args: ['-rn', process.execPath, ...nodeArgs], cwd: subDir };
      return { cmd: process.execPath, args: nodeArgs, cwd: subDir };
    }
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    if (ns) {
      // hide each fixture folder, unless the program itself lives inside it
      const cwd = resolve(this.spec.cwd);
      const hides = this.hidden.filter((d) => existsSync(d) && cwd !== resolve(d) && !cwd.startsWith(resolve(d) + sep));
      const script = [...hides.map((d) => `mount -t tmpfs -o size=1k none ${q(d)}`), `exec sh -c ${q(this.spec.command)}`].join(' && ');
      return { cmd: 'unshare', args: ['-rmn', 'sh', '-c', script], cwd: this.spec.cwd };
    }
    return { cmd: 'sh', args: ['-c', `exec ${this.spec.command}`], cwd: this.spec.cwd };
  }

  private start(): void {
    const { cmd, args, cwd } = this.argv();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: this.scratch, TMPDIR: this.scratch, LANG: 'C.UTF-8', PYTHONUNBUFFERED: '1' };
    const child = spawn(cmd, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.startedAt = Date.now();
    this.exitNote = '';
    child.stdin!.on('error', () => {});
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: Response;
      try {
        msg = JSON.parse(line) as Response;
      } catch {
        this.addLog(`[stdout] ${line}\n`);
        return;
      }
      const resolveFn = msg && typeof msg.id === 'string' ? this.pending.get(msg.id) : undefined;
      if (!resolveFn) {
        this.addLog(`[stdout] ${line.slice(0, 200)}\n`);
        return;
      }
      this.pending.delete(msg.id);
      resolveFn({ ok: true, response: msg, ms: 0 });
    });
    child.stderr!.on('data', (d: Buffer) => this.addLog(d.toString('utf8')));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      const why = this.exitNote || (signal ? `was killed by ${signal}` : `exited with status ${code}`);
      const oom = /heap out of memory|JavaScript heap|MemoryError|Cannot allocate memory/i.test(this.log.slice(-5).join(''));
      const last = this.log.join('').trim().split('\n').filter((l) => l.trim() && !l.startsWith('[stdout]')).pop();
      const said = last ? ` (its last words on stderr: ${last.trim().slice(0, 200)})` : '';
      for (const [id, r] of this.pending) {
        this.pending.delete(id);
        r({ ok: false, kind: oom || this.exitNote.startsWith('used') ? 'memory' : 'crash', message: oom ? 'ran out of memory' : `the submission ${why} before answering${said}`, ms: 0 });
      }
    });
    child.on('error', (e) => this.addLog(`[grader] could not start the submission: ${e.message}\n`));
  }

  private addLog(s: string): void {
    if (this.logBytes > 64 * 1024) return;
    this.log.push(s);
    this.logBytes += s.length;
  }

  /** What the submission wrote to standard error (and stray standard output), at most 64 KiB. */
  get stderr(): string {
    return this.log.join('');
  }

  private rss(pid: number): number {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      return 0;
    }
  }

  /** Sends one request and waits for its answer, the time limit, a crash, or the memory limit. */
  request(req: Request, timeoutMs: number): Promise<Outcome> {
    if (!this.child) this.start();
    const child = this.child!;
    const t0 = performance.now();
    return new Promise<Outcome>((resolveOutcome) => {
      let done = false;
      const finish = (o: Outcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(watch);
        this.pending.delete(req.id);
        resolveOutcome({ ...o, ms: performance.now() - t0 });
      };
      this.pending.set(req.id, finish);
      // the first request also pays for start-up (loading the module): allow it a few seconds more
      const startAllowance = Date.now() - this.startedAt < 100 ? 5000 : 0;
      const timer = setTimeout(() => {
        this.kill('timed out');
        finish({ ok: false, kind: 'timeout', message: `no answer within the time limit of ${timeoutMs} ms`, ms: 0 });
      }, timeoutMs + startAllowance);
      const watch = setInterval(() => {
        const mb = child.pid ? this.rss(child.pid) : 0;
        if (mb > this.limits.memoryMb) {
          this.kill(`used ${Math.round(mb)} MB`);
          finish({ ok: false, kind: 'memory', message: `used more than the memory limit of ${this.limits.memoryMb} MB`, ms: 0 });
        }
      }, 25);
      child.stdin!.write(JSON.stringify(req) + '\n');
    });
  }

  private kill(note: string): void {
    if (!this.child) return;
    this.exitNote = note;
    this.child.kill('SIGKILL');
    this.child = undefined;
  }

  close(): void {
    if (this.child) {
      this.child.stdin!.end();
      const c = this.child;
      this.child = undefined;
      setTimeout(() => c.kill('SIGKILL'), 200).unref();
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
