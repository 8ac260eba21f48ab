/** `ops`, `schema`, `generate`: the op catalogue itself. */
import type { Command } from 'commander';
import { catalogue, type Ctx } from './context.js';

export function register(program: Command, ctx: Ctx): void {
  program
    .command('ops')
    .description('list the op catalogue, or describe one op')
    .argument('[op]', 'an op name')
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, opts: { json?: boolean }) => {
      const { allOps, backendsOf, getOp, kernelOf, paramsSchema } = await catalogue();
      const { stringify } = await import('../tensor.js');
      if (name) {
        const op = getOp(name);
        if (opts.json) {
          ctx.out(stringify({ name: op.name, family: op.family, summary: op.summary, inputs: op.inputs, params: paramsSchema(op), outputs: op.outputs, accelerated: !!kernelOf(op, 'accelerated'), backends: backendsOf(op) }) + '\n');
          return;
        }
        const lines = [`${op.name} — ${op.summary}`, '', 'inputs:'];
        for (const i of op.inputs) lines.push(`  ${i.name}${i.optional ? '?' : ''}  ${i.doc}${i.kind === 'index' ? ' (int64)' : ''}`);
        lines.push('params:');
        if (!op.params.length) lines.push('  (none)');
        for (const p of op.params) {
          const d = p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : p.optional ? ' (optional)' : ' (required)';
          lines.push(`  ${p.name}${d}  ${p.doc}`);
        }
        lines.push('outputs:');
        for (const o of op.outputs) lines.push(`  ${o.name}${o.dtype === 'int64' ? ' (int64)' : ''}  ${o.doc}`);
        lines.push(`backends: ${backendsOf(op).join(', ')}`);
        ctx.out(lines.join('\n') + '\n');
        return;
      }
      const ops = allOps();
      if (opts.json) {
        ctx.out(stringify(ops.map((o) => ({ name: o.name, family: o.family, summary: o.summary }))) + '\n');
        return;
      }
      const width = Math.max(...ops.map((o) => o.name.length));
      let family = '';
      for (const o of ops) {
        if (o.family !== family) {
          family = o.family;
          ctx.out(`${family}:\n`);
        }
        ctx.out(`  ${o.name.padEnd(width)}  ${o.summary}\n`);
      }
    });

  program
    .command('schema')
    .description('print a JSON Schema: tensor, case, eval-result, or the params of an op')
    .argument('<name>', 'tensor | case | eval-result | OP')
    .action(async (name: string) => {
      const { schemaByName } = await import('../schemas.js');
      ctx.out(JSON.stringify(schemaByName(name), null, 2) + '\n');
    });

  program
    .command('generate')
    .description('print seeded random cases of an op (inputs and params, no expected) as JSON Lines')
    .argument('<op>', 'an op name')
    .option('-n, --count <n>', 'how many cases', '5')
    .option('-s, --seed <seed>', 'seed (number or text)', '0')
    .option('--expected', 'include the reference outputs as expected')
    .action(async (name: string, opts: { count: string; seed: string; expected?: boolean }) => {
      const { encodeInputs, encodeOutputs } = await import('../cases.js');
      const { getOp, resolveParams } = await import('../registry.js');
      const { Rng } = await import('../rng.js');
      const { stringify } = await import('../tensor.js');
      const op = getOp(name);
      if (!op.generate) ctx.fail(`${op.name} has no case generator`);
      const n = Number(opts.count);
      if (!Number.isInteger(n) || n < 0) ctx.fail(`--count must be a non-negative integer, got ${JSON.stringify(opts.count)}`);
      const rng = new Rng(`${op.name}/${opts.seed}`);
      for (let k = 0; k < n; k++) {
        const g = op.generate!(rng);
        const c: Record<string, unknown> = { id: `${op.name}/seed-${opts.seed}-${k}`, op: op.name, inputs: encodeInputs(op, g.inputs), params: g.params };
        if (opts.expected) c.expected = encodeOutputs(op, op.reference(g.inputs, resolveParams(op, g.params)));
        ctx.out(stringify(c) + '\n');
      }
    });
}
