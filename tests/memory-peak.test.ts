/**
 * The memory limit counts each process's peak, not only what it holds when the grader looks:
 * memory taken and given back between two polls (every 25 ms) still counts (the kernel's VmHWM,
 * less file-backed pages), and resetPeaks starts each case afresh.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { Sandbox } from '../src/sandbox/sandbox.js';

describe('the sandbox measures memory at its peak', () => {
  it('400 MB taken and freed before the grader looks counts; after resetPeaks it does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peak-'));
    writeFileSync(join(dir, 'burst.py'), 'import sys, time\nh = bytearray(400 << 20)\nh[::4096] = b"\\x01" * (len(h) // 4096)\ndel h\nprint("freed", flush=True)\ntime.sleep(30)\n');
    const box = new Sandbox({ mode: 'none', source: dir, runner: 'command', readable: [], protect: [], protectWrite: [], limits: { memoryMb: 1024, tasks: 16, cpuSeconds: 30, fileMb: 1 } });
    try {
      const child = box.spawn(['python3', 'burst.py']);
      await once(child.stdout!, 'data');
      const anonNow = Number(/\nRssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
      expect(anonNow).toBeLessThan(100); // it holds little now ...
      expect(box.memoryMb()).toBeGreaterThan(390); // ... but it took 400 MB
      box.resetPeaks();
      expect(box.memoryMb()).toBeLessThan(100);
    } finally {
      box.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
