// eia-native serve: the OpenAI-compatible server (lib/server) from the command line. Runs until
// SIGINT/SIGTERM, then drains: new requests get 503, running ones finish (a second signal exits at once).
import type { CommandModule } from 'yargs';
import { createServer, SERVER_DEFAULTS } from '../../server/index.js';
import { isLoopback } from '../../server/auth.js';
import { note } from '../../util/note.js';
import { modelPathArg, UsageError } from '../common.js';

interface Args {
  model: string; vectors?: string; slots: number; ctx: number; queue?: number; host: string; port: number;
  'api-key'?: string; threads?: number; 'gpu-layers': number; 'body-limit': number; 'drain-ms': number; log: boolean;
}

export const serveCommand: CommandModule<object, Args> = {
  command: 'serve',
  describe: 'OpenAI-compatible server with per-request steering, probe scores in the stream, and gated steering',
  builder: (y) =>
    y.option('model', { type: 'string', demandOption: true, describe: 'GGUF file, or a name from `eia-native models` (pulled)' })
      .option('vectors', { type: 'string', describe: 'folder of steering vectors: .npy probes (+ .json sidecars) and control-vector .gguf files' })
      .option('slots', { type: 'number', default: SERVER_DEFAULTS.slots, describe: 'sequences generated at once (continuous batching)' })
      .option('ctx', { type: 'number', default: SERVER_DEFAULTS.ctx, describe: 'tokens per slot: prompt + completion of one request' })
      .option('queue', { type: 'number', describe: `requests that may wait for a slot before 429 (default ${SERVER_DEFAULTS.queuePerSlot} x slots)` })
      .option('host', { type: 'string', default: SERVER_DEFAULTS.host, describe: 'address to bind; anything but loopback needs --api-key' })
      .option('port', { type: 'number', default: SERVER_DEFAULTS.port, describe: '0 = any free port' })
      .option('api-key', { type: 'string', describe: 'require Authorization: Bearer <key> (or set EIA_NATIVE_API_KEY, which keeps it out of the process list)' })
      .option('threads', { type: 'number', describe: 'CPU threads (default: all)' })
      .option('gpu-layers', { type: 'number', default: 0, describe: 'layers to offload to the GPU (-1 = all; GPU builds)' })
      .option('body-limit', { type: 'number', default: SERVER_DEFAULTS.bodyLimit, describe: 'largest request body in bytes' })
      .option('drain-ms', { type: 'number', default: SERVER_DEFAULTS.drainMs, describe: 'on shutdown, how long running requests may take to finish' })
      .option('log', { type: 'boolean', default: false, describe: 'log every request (JSON lines on stdout)' })
      .example('$0 serve --model p.gguf --vectors probes', 'http://127.0.0.1:8080/v1 (OpenAI clients: baseURL)')
      .example('EIA_NATIVE_API_KEY=secret $0 serve --model qwen2.5-0.5b --host 0.0.0.0 --slots 8', 'reachable from the network, with a key') as never,
  handler: async (a) => {
    const apiKey = a['api-key'] ?? process.env.EIA_NATIVE_API_KEY ?? null;
    if (!isLoopback(a.host) && !apiKey) throw new UsageError(`refusing to listen on ${a.host} without --api-key (or EIA_NATIVE_API_KEY): anyone who can reach it could use the model`);
    for (const [k, v] of [['slots', a.slots], ['ctx', a.ctx]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${k} must be a positive integer`);
    }
    if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new UsageError('--port must be an integer in [0, 65535]');
    const server = await createServer({
      model: modelPathArg(a.model), vectors: a.vectors ?? null, slots: a.slots, ctx: a.ctx, queue: a.queue, host: a.host, port: a.port,
      apiKey, threads: a.threads, gpuLayers: a['gpu-layers'], bodyLimit: a['body-limit'], drainMs: a['drain-ms'], logger: a.log,
    });
    const addr = await server.listen();
    note(`eia-native serve: ${server.modelId} on ${addr.url}/v1 (${server.slots} slots x ${server.nCtxSlot} tokens${a.vectors ? `, vectors from ${a.vectors}` : ''}${apiKey ? ', API key required' : ''})`);
    await new Promise<void>((resolve) => {
      let signals = 0;
      const stop = (sig: NodeJS.Signals) => {
        signals++;
        if (signals > 1) process.exit(130);
        note(`eia-native serve: ${sig}: draining (new requests get 503; send it again to exit at once)`);
        void server.close().then(resolve, (e: unknown) => { note(`eia-native serve: ${(e as Error).message}`); process.exit(1); });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    note('eia-native serve: stopped');
  },
};
