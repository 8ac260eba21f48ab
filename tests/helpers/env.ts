/**
 * Environment variables for one test file. The files of a vitest worker share its process
 * (vitest.config.ts: isolate false), so a file that sets a variable puts the old value back after
 * its tests.
 */
import { afterAll } from 'vitest';

/** Sets `name` for the rest of this file and restores it (or its absence) after the file's tests. */
export function setEnvForFile(name: string, value: string): void {
  const saved = process.env[name];
  process.env[name] = value;
  afterAll(() => {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  });
}
