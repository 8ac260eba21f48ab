// The one correct operator every hostile JS submission shares (copied into each submission folder by the test).
import { readFileSync } from 'node:fs';

export function relu({ x }) {
  return { shape: x.shape, data: Array.from(x.data, (v) => (v > 0 || v !== v ? v : 0)) };
}
export const targets = JSON.parse(readFileSync(new URL('./targets.json', import.meta.url), 'utf8'));
/** Tries each thing; returns what happened, one short line each. */
export async function attempt(list) {
  const out = [];
  for (const [what, f] of list) {
    try {
      const r = await f();
      out.push(`${what}: OK ${String(r).slice(0, 300)}`);
    } catch (e) {
      out.push(`${what}: ${e.code ?? e.name}`);
    }
  }
  return out;
}
