import type { Command } from 'commander';
import { catalogue, type Ctx } from './context.js';

export function register(program: Command, ctx: Ctx): void {
  program
    .command('backends')
    .description('say which backends run the ops: the exact reference, the gpu.js kernels (and the mode gpu.js chose), the WebAssembly SIMD kernels')
    .option('--json', 'machine-readable')
    .action(async (opts: { json?: boolean }) => {
      const { backendOps } = await catalogue(); // the ops register the backends' kernels
      const { backendInfo } = await import('../../kernels/backend.js');
      const { simdInfo } = await import('../../kernels/simd/engine.js');
      const info = backendInfo();
      const simd = await simdInfo();
      if (opts.json) {
        const out = { reference: { precision: 'float64', exact: true }, accelerated: { ...info, ops: backendOps('accelerated') }, simd: { ...simd, ops: backendOps('simd') } };
        return void ctx.out(JSON.stringify(out, null, 2) + '\n');
      }
      ctx.out(
        [
          'reference    exact float64 (every op)',
          `accelerated  gpu.js ${info.gpuJs}, mode "${info.mode}", ran as ${info.kernelClass} (float32)`,
          `             headless-gl ${info.headlessGL ? 'available' : 'not available'}${info.display ? ` (DISPLAY=${info.display})` : ' (no DISPLAY)'}, WebAssembly ${info.webAssembly ? 'available' : 'not available'}`,
          `             ops: ${backendOps('accelerated').join(', ')}`,
          `simd         ${simd.engine}, ${simd.microKernel} register-blocked micro-kernel, ${simd.threads} thread${simd.threads > 1 ? 's' : ''} (float32)`,
          `             ops: ${backendOps('simd').join(', ')}`,
        ].join('\n') + '\n',
      );
    });
}
