/**
 * A sandbox for one submission: its own copy of the submission's files, a scratch folder, the
 * runner (for JS/TS), limits on every process it starts, and a way to kill all of them.
 *
 * Modes (capabilities.ts): `bwrap` (namespaces), `uid` (a dedicated unprivileged uid, with the
 * grader's files checked unreadable to it), `none` (only with --unsafe-no-sandbox). In every mode:
 * - `prlimit` caps each process: data segment (memory limit + a runtime allowance), CPU seconds,
 *   file size, open files, no core dumps, and the number of tasks (processes and threads);
 * - the grader polls the resident anonymous memory of all the sandbox's processes together and
 *   kills them all above the memory limit;
 * - a kill reaches every process the submission started (its PID namespace, or its uid).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { capabilities, killUid, leaseUid, pidsOfUid, readQuiet, type SandboxMode } from './capabilities.js';
import { copySubmission, type CopyResult } from './copy.js';

export interface SandboxLimits {
  /** Resident anonymous memory of all processes together, in MiB. */
  memoryMb: number;
  /** Processes and threads. */
  tasks: number;
  /** CPU seconds per process (a backstop; the grader's wall-clock limits come first). */
  cpuSeconds: number;
  /** Largest file it may write, and the size of its scratch folder, in MiB. */
  fileMb: number;
}

/** What each process may map for data beyond the memory limit: the language runtime itself (tsx's loader thread alone takes ~120 MiB). */
export const RUNTIME_ALLOWANCE_MB = 256;

export interface SandboxOptions {
  mode: SandboxMode;
  /** The submission: a file (copied alone) or a folder. */
  source: string;
  /** What to stage: the JS runner (and tsx for TypeScript), or for another program only the Python helper. */
  runner: 'js' | 'ts' | 'command';
  /** The instructor's adapter module (one file), copied in where the sandbox can read it. */
  adapter?: string;
  /** Extra files or folders it may read (the instructor's --allow-read), at the same paths. */
  readable: string[];
  /** Files and folders it must not read (the package, fixtures, the assignment), nor write. */
  protect: string[];
  /** Folders it must not write (where results go). */
  protectWrite: string[];
  limits: SandboxLimits;
}

/** Paths as the submission sees them. */
export interface SandboxPaths {
  /** The copy of the submission's folder. */
  submission: string;
  /** The entry file (the copy of `source` when it is a file). */
  entry: string;
  tmp: string;
  /** The staged runner folder (runner.js) and node_modules (tsx, ndarray). */
  runner: string;
  nodeModules: string;
  /** The folder of the Python helper (on PYTHONPATH). */
  python: string;
  /** The adapter module, when there is one. */
  adapter?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const PACKAGE = (() => {
  let d = here;
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();
/** The compiled runner folder (also when the grader itself runs from src/ under a test runner). */
const RUNNER_DIST = existsSync(join(here, 'runner', 'runner.js')) ? join(here, 'runner') : join(PACKAGE, 'dist', 'src', 'sandbox', 'runner');
/** The Python helper of the line protocol (`from cnn_oracle import serve`), on every sandbox's PYTHONPATH. */
const PYTHON_HELPER = join(PACKAGE, 'clients', 'python', 'cnn_oracle.py');

/** The folder of an installed package, found the way Node finds it (no `exports` map needed). */
function packageDir(name: string, from: string): string | undefined {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, 'node_modules', name);
    if (existsSync(join(p, 'package.json'))) return realpathSync(p);
    if (dirname(d) === d) return undefined;
  }
}

/** A package and everything it depends on (installed optional dependencies included), by name. */
function closure(roots: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const start = dirname(require.resolve('ndarray'));
  const visit = (name: string, from: string) => {
    if (out.has(name)) return;
    const dir = packageDir(name, from);
    if (!dir) return;
    out.set(name, dir);
    const pkg = JSON.parse(readQuiet(join(dir, 'package.json')) ?? '{}') as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep, dir);
  };
  for (const r of roots) visit(r, start);
  return out;
}

const staged = new Map<string, string>();
/**
 * The runner and the packages it loads (and the Python helper), copied once per grader process
 * into a folder of their own that any user may read: all the sandbox gets of cnn-oracle.
 */
function stageRunner(kind: 'js' | 'ts' | 'command'): string {
  const known = staged.get(kind);
  if (known) return known;
  const dir = mkdtempSync(join(tmpdir(), `cnn-oracle-runner-${kind}-`));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'python'));
  if (existsSync(PYTHON_HELPER)) cpSync(PYTHON_HELPER, join(dir, 'python', 'cnn_oracle.py'));
  staged.set(kind, dir);
  if (kind === 'command') {
    readableByAll(dir);
    return dir;
  }
  mkdirSync(join(dir, 'runner'));
  for (const f of readdirSync(RUNNER_DIST)) if (f.endsWith('.js')) cpSync(join(RUNNER_DIST, f), join(dir, 'runner', f));
  writeFileSync(join(dir, 'package.json'), '{"type":"module","private":true}\n');
  for (const [name, src] of closure(kind === 'ts' ? ['ndarray', 'tsx'] : ['ndarray'])) {
    cpSync(src, join(dir, 'node_modules', name), { recursive: true, dereference: true, filter: (s) => !s.includes(`${sep}node_modules${sep}.bin`) && basename(s) !== '.bin' });
  }
  readableByAll(dir);
  return dir;
}

/** a+rX on a tree: the copies keep the modes of an installation the sandbox user must not read. */
function readableByAll(p: string): void {
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return;
  chmodSync(p, st.isDirectory() || st.mode & 0o111 ? 0o755 : 0o644);
  if (st.isDirectory()) for (const e of readdirSync(p)) readableByAll(join(p, e));
}

/** Removes the staged runners (at exit). */
export function removeStagedRunners(): void {
  for (const d of staged.values()) rmSync(d, { recursive: true, force: true });
  staged.clear();
}
process.once('exit', removeStagedRunners);

/** The folders above `p`, nearest first, up to (not including) the root. */
export function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let d = dirname(p); d !== dirname(d); d = dirname(d)) out.push(d);
  return out;
}

/** Runs a permission check, the shell `script` with `args` as its "$@", as the sandbox's uid: what it prints. */
function asSandboxUser(uid: number, script: string, args: string[]): string {
  const r = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'sh', '-c', script, 'sh', ...args], { encoding: 'utf8', timeout: 20000 });
  if (r.status !== 0) throw new SandboxError(`could not check the sandbox user's permissions (${(r.stderr || r.error?.message || '').trim()})`);
  return r.stdout;
}

/** System folders a program needs to run (binaries, libraries, configuration), read-only. */
const SYSTEM = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];

const isInside = (p: string, root: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);

export class SandboxError extends Error {}

export class Sandbox {
  readonly notes: string[] = [];
  readonly paths: SandboxPaths;
  readonly copied: CopyResult;
  private readonly session: string;
  private readonly uidLease?: { uid: number; release: () => void };
  private readonly stage: string;
  private readonly hostCopy: string;
  private children = new Set<ChildProcess>();

  constructor(private readonly opts: SandboxOptions) {
    const caps = capabilities();
    const src = resolve(opts.source);
    if (!existsSync(src)) throw new SandboxError(`${opts.source}: no such file or folder`);
    const srcIsFile = statSync(src).isFile();
    this.session = mkdtempSync(join(tmpdir(), 'cnn-oracle-sandbox-'));
    chmodSync(this.session, 0o711);
    try {
      if (opts.mode !== 'none' && caps.root) this.uidLease = leaseUid();
      const uid = this.uidLease?.uid;
      // the copy lives under the session folder; in bwrap it is mounted at the submission's own path
      const folder = srcIsFile ? dirname(src) : src;
      this.hostCopy = join(this.session, 'submission');
      this.copied = copySubmission(src, this.hostCopy, uid);
      for (const s of this.copied.skipped) this.notes.push(`left out of the sandbox: ${s}`);
      const tmp = join(this.session, 'tmp');
      mkdirSync(tmp, { mode: 0o700 });
      if (uid !== undefined) chownSync(tmp, uid, uid);
      this.stage = stageRunner(opts.runner);
      if (opts.adapter) {
        // the instructor's module: readable by the sandbox (it holds no answers), never writable
        mkdirSync(join(this.session, 'adapter'), { mode: 0o755 });
        cpSync(opts.adapter, join(this.session, 'adapter', basename(opts.adapter)));
        chmodSync(join(this.session, 'adapter', basename(opts.adapter)), 0o644);
      }
      const inBwrap = opts.mode === 'bwrap';
      const sub = inBwrap ? folder : this.hostCopy;
      const stageIn = inBwrap ? '/cnn-oracle' : this.stage;
      this.paths = {
        submission: sub,
        entry: srcIsFile ? join(sub, basename(src)) : sub,
        tmp: inBwrap ? '/tmp' : tmp,
        runner: join(stageIn, 'runner'),
        nodeModules: join(stageIn, 'node_modules'),
        python: join(stageIn, 'python'),
        ...(opts.adapter ? { adapter: join(inBwrap ? '/cnn-oracle-adapter' : join(this.session, 'adapter'), basename(opts.adapter)) } : {}),
      };
      if (uid !== undefined && opts.readable.length) this.checkReadable(uid);
      if (opts.mode === 'uid') this.checkProtections();
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get mode(): SandboxMode {
    return this.opts.mode;
  }

  get uid(): number | undefined {
    return this.uidLease?.uid;
  }

  /**
   * Each --allow-read path must be reachable by the sandbox's uid (bwrap runs as that uid too, and
   * mounts the path as that uid sees it): a path under a folder other users cannot search (a
   * checkout in a 0700 home) is a named error before anything runs, not bwrap's "Can't find source
   * path" from inside every case.
   */
  private checkReadable(uid: number): void {
    const paths = this.opts.readable.map((r) => resolve(r));
    for (const p of paths) if (!existsSync(p)) throw new SandboxError(`--allow-read ${p}: no such file or folder`);
    const real = paths.map((p) => realpathSync(p));
    const folders = [...new Set(real.flatMap(ancestors))];
    const args = [...real, ...folders];
    // one process for all, answering by argument number (a name may hold any character): each path
    // it cannot use (a file it cannot read, a folder it cannot search — bwrap mounts a folder the
    // submission may only open known names in), then each folder above one that it cannot search
    const script = 'n=$1; shift; i=0; for p in "$@"; do i=$((i+1)); if [ "$i" -gt "$n" ] || [ -d "$p" ]; then [ -x "$p" ] || echo "$i"; else [ -r "$p" ] || echo "$i"; fi; done; exit 0';
    const failed = new Set(asSandboxUser(uid, script, [String(real.length), ...args]).split('\n').filter(Boolean).map((k) => args[Number(k) - 1]));
    for (const [i, p] of real.entries()) {
      if (!failed.has(p)) continue;
      // the outermost folder it cannot search is the one to open (or to keep the path out of)
      const blocking = ancestors(p).reverse().find((d) => failed.has(d));
      throw new SandboxError(
        blocking
          ? `the sandbox user (uid ${uid}) cannot reach --allow-read ${paths[i]}: the folder ${blocking} above it is not searchable by other users (chmod o+x ${blocking}, or keep what the submission may read outside it)`
          : `the sandbox user (uid ${uid}) cannot ${statSync(p).isDirectory() ? 'search' : 'read'} --allow-read ${paths[i]} (make it readable by other users, e.g. chmod -R o+rX ${paths[i]})`,
      );
    }
  }

  /**
   * The uid mode rests on file permissions: before anything runs, check as the sandbox's uid that
   * it can read none of the protected files (each one, not only their folders: a folder without
   * read permission can still be traversed) and write none of the result folders.
   */
  private checkProtections(): void {
    const uid = this.uid!;
    const files: string[] = [];
    const collect = (p: string, depth: number) => {
      if (!existsSync(p)) return;
      files.push(p);
      // node_modules holds no answers (and the runner's packages come from there)
      if (depth > 0 && lstatSync(p).isDirectory()) for (const e of readdirSync(p).slice(0, 200)) if (e !== 'node_modules') collect(join(p, e), depth - 1);
    };
    for (const p of this.opts.protect) collect(resolve(p), 3);
    const script = 'for p in "$@"; do case "$p" in W:*) [ -w "${p#W:}" ] && echo "writable: ${p#W:}";; *) [ -r "$p" ] && [ -f "$p" ] && echo "readable: $p";; esac; done; exit 0';
    const args = [...files, ...this.opts.protectWrite.filter((d) => existsSync(d)).map((d) => 'W:' + resolve(d))];
    const found = asSandboxUser(uid, script, args).trim().split('\n').filter(Boolean);
    if (found.length) {
      throw new SandboxError(
        `the sandbox user (uid ${uid}) could reach the grader's files: ${found.slice(0, 5).join(', ')}${found.length > 5 ? ` and ${found.length - 5} more` : ''}. ` +
          'Make them unreadable to other users (e.g. chmod -R o-rwx on the assignment, the fixtures and the cnn-oracle installation; `cnn-oracle export` does this in its run_autograder), or give the grader user namespaces (bubblewrap).',
      );
    }
  }

  /** The environment every program starts with: nothing of the grader's. */
  env(): NodeJS.ProcessEnv {
    const nodeBin = dirname(process.execPath);
    const path = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
    if (!path.includes(nodeBin)) path.unshift(nodeBin);
    return { PATH: path.join(':'), HOME: this.paths.tmp, TMPDIR: this.paths.tmp, LANG: 'C.UTF-8', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: this.paths.python };
  }

  private limitArgs(): string[] {
    const { memoryMb, cpuSeconds, fileMb, tasks } = this.opts.limits;
    const data = (memoryMb + RUNTIME_ALLOWANCE_MB) * 1048576;
    // RLIMIT_NPROC counts the tasks of the whole uid: exact for a dedicated uid, else on top of what the user runs already
    const nproc = this.uid !== undefined ? tasks : tasksOfUid(process.getuid?.() ?? 0) + tasks;
    return ['prlimit', `--data=${data}`, `--cpu=${cpuSeconds}`, `--fsize=${fileMb * 1048576}`, '--nofile=1024', '--core=0', `--nproc=${nproc}`, '--'];
  }

  private bwrapArgs(): string[] {
    // --disable-userns: no nested user namespace, in which the submission would hold capabilities again
    const a = ['bwrap', '--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--uid', '1000', '--gid', '1000', '--hostname', 'sandbox'];
    const mounted: string[] = [];
    for (const d of SYSTEM) {
      if (!existsSync(d)) continue;
      const st = lstatSync(d);
      if (st.isSymbolicLink()) a.push('--symlink', readlinkQuiet(d), d);
      else {
        a.push('--ro-bind', d, d);
        mounted.push(d);
      }
    }
    a.push('--proc', '/proc', '--dev', '/dev', '--size', String(this.opts.limits.fileMb * 1048576), '--tmpfs', '/tmp');
    const node = realpathSync(process.execPath);
    if (!mounted.some((m) => isInside(node, m))) {
      const prefix = dirname(dirname(node));
      a.push('--ro-bind', prefix, prefix);
      mounted.push(prefix);
    }
    // a passwd entry for the sandbox's user, so that programs asking who they are get an answer
    const passwd = join(this.session, 'passwd');
    writeFileSync(passwd, 'root:x:0:0:root:/root:/usr/sbin/nologin\nstudent:x:1000:1000:student:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
    const group = join(this.session, 'group');
    writeFileSync(group, 'root:x:0:\nstudent:x:1000:\nnogroup:x:65534:\n');
    chmodSync(passwd, 0o644);
    chmodSync(group, 0o644);
    a.push('--ro-bind', passwd, '/etc/passwd', '--ro-bind', group, '/etc/group');
    // what the grader protects may sit inside a system folder (a global npm install under /usr): mask it
    for (const p of this.opts.protect.map((x) => resolve(x)).filter((x) => existsSync(x))) {
      const real = realpathSync(p);
      if (!mounted.some((m) => isInside(real, m))) continue;
      if (statSync(real).isDirectory()) a.push('--tmpfs', real);
      else a.push('--ro-bind', '/dev/null', real);
    }
    a.push('--ro-bind', this.stage, '/cnn-oracle');
    if (this.opts.adapter) a.push('--ro-bind', join(this.session, 'adapter'), '/cnn-oracle-adapter');
    for (const r of this.opts.readable) {
      const real = realpathSync(resolve(r));
      a.push('--ro-bind', real, real);
    }
    a.push('--ro-bind', this.hostCopy, this.paths.submission, '--chdir', this.paths.submission);
    return a;
  }

  /** Starts a program inside the sandbox (argv as seen inside), with its working folder the submission's copy. */
  spawn(argv: string[]): ChildProcess {
    const mode = this.opts.mode;
    const drop = this.uid !== undefined ? ['setpriv', `--reuid=${this.uid}`, `--regid=${this.uid}`, '--clear-groups', '--no-new-privs', '--'] : [];
    const net = mode === 'uid' && capabilities().netns ? ['unshare', '-n', '--'] : [];
    const inner = mode === 'bwrap' ? [...this.bwrapArgs(), '--', ...argv] : argv;
    const cmd = [...this.limitArgs(), ...net, ...drop, ...inner];
    const child = spawn(cmd[0], cmd.slice(1), { cwd: mode === 'bwrap' ? '/' : this.paths.submission, env: this.env(), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * Every process of the sandbox: the descendants of what it spawned (in a PID namespace an orphan
   * is adopted by the namespace's init, so it stays a descendant) and, with `complete`, every
   * process of its uid (in the uid mode an orphan is adopted by the machine's init).
   */
  pids(complete = false): number[] {
    const out: number[] = [];
    const walk = (pid: number) => {
      out.push(pid);
      let tasks: string[] = [];
      try {
        tasks = readdirSync(`/proc/${pid}/task`);
      } catch {
        return;
      }
      for (const t of tasks) for (const c of (readQuiet(`/proc/${pid}/task/${t}/children`) ?? '').trim().split(/\s+/)) if (c) walk(Number(c));
    };
    for (const c of this.children) if (c.pid) walk(c.pid);
    if (complete && this.opts.mode === 'uid' && this.uid !== undefined) return [...new Set([...out, ...pidsOfUid(this.uid)])];
    return out;
  }

  /**
   * Resident anonymous memory (heap, stacks: resident minus file-backed and shared pages) of all its
   * processes, in MiB: for each process the larger of what it holds now and its peak since the last
   * resetPeaks (the kernel's high-water mark VmHWM less its file-backed and shared pages), so that
   * memory taken and given back between two polls still counts.
   */
  memoryMb(complete = false): number {
    let kb = 0;
    for (const pid of this.pids(complete)) {
      const s = readQuiet(`/proc/${pid}/status`);
      if (!s) continue;
      const kB: Record<string, number> = {};
      for (const m of s.matchAll(/^(RssAnon|VmHWM|RssFile|RssShmem):\s+(\d+) kB$/gm)) kB[m[1]] = Number(m[2]);
      kb += Math.max(kB.RssAnon ?? 0, (kB.VmHWM ?? 0) - (kB.RssFile ?? 0) - (kB.RssShmem ?? 0));
    }
    return kb / 1024;
  }

  /** Restarts every process's high-water mark of resident memory (each case is measured on its own). */
  resetPeaks(pids = this.pids(true)): void {
    for (const pid of pids) {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
      } catch {
        /* gone, or not ours to reset: its peak since it started counts */
      }
    }
  }

  /** Stops (SIGSTOP) or resumes (SIGCONT) every process of the sandbox: frozen while the grader judges an answer. */
  signalAll(signal: 'SIGSTOP' | 'SIGCONT', pids = this.pids(true)): void {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone */
      }
    }
  }

  /** SIGKILL to every process of the sandbox. */
  killAll(): void {
    for (const c of this.children) {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL'); // its process group (spawned detached)
      } catch {
        /* gone */
      }
      c.kill('SIGKILL');
    }
    if (this.uid !== undefined) killUid(this.uid);
    else for (const pid of this.pids()) killQuiet(pid);
  }

  dispose(): void {
    this.killAll();
    for (const c of this.children) {
      c.stdout?.destroy();
      c.stderr?.destroy();
      c.stdin?.destroy();
    }
    this.children.clear();
    this.uidLease?.release();
    if (this.session) rmSync(this.session, { recursive: true, force: true, maxRetries: 3 });
  }
}

function killQuiet(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

function readlinkQuiet(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Tasks (threads) the user runs now. */
function tasksOfUid(uid: number): number {
  let n = 0;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = readQuiet(`/proc/${e}/status`);
    if (!s) continue;
    const u = /\nUid:\s+(\d+)/.exec(s);
    const t = /\nThreads:\s+(\d+)/.exec(s);
    if (u && Number(u[1]) === uid && t) n += Number(t[1]);
  }
  return n;
}
