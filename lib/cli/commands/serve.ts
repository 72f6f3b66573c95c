// eia-native serve: the OpenAI-compatible server (lib/server) from the command line. Runs until
// SIGINT/SIGTERM, then drains: new requests get 503, running ones finish (a second signal exits at once).
// The shared flags (--model/-m, --ctx-size/-c, which `--ctx` also reaches, --threads/-t,
// --gpu-layers/-ngl) come from flags.ts; usage errors exit 2 and name flags; the address it listens on
// is a note on stderr (like every note), request logs (--log) are JSON lines on stdout.
import type { CommandModule } from 'yargs';
import { createServer, SERVER_DEFAULTS } from '../../server/index.js';
import { isLoopback } from '../../server/auth.js';
import { engineLimits } from '../../engine/defaults.js';
import { note } from '../../util/note.js';
import { modelPathArg, UsageError } from '../common.js';
import { checkModelFlags, FLAGS, inFlagWords, intFlag, optIntFlag } from '../flags.js';

interface Args {
  model: string; vectors?: string; slots: number; 'ctx-size': number; queue?: number; host: string; port: number;
  'api-key'?: string; threads?: number; 'gpu-layers': number; 'body-limit': number; 'drain-ms': number; log: boolean;
}

/** createServer's option names -> the flags that set them (for its messages). */
const OPTION_FLAGS: Record<string, string> = {
  slots: '--slots', ctx: '--ctx-size', queue: '--queue', bodyLimit: '--body-limit', vectors: '--vectors', model: '--model',
};

export const serveCommand: CommandModule<object, Args> = {
  command: 'serve',
  describe: 'OpenAI-compatible server with per-request steering, probe scores in the stream, and gated steering',
  builder: (y) =>
    y.option('model', { ...FLAGS.model, demandOption: true })
      .option('vectors', { type: 'string', describe: 'folder of steering vectors: .npy probes (+ .json sidecars) and control-vector .gguf files' })
      .option('slots', { type: 'number', default: SERVER_DEFAULTS.slots, describe: 'sequences generated at once (continuous batching)' })
      .option('ctx-size', { ...FLAGS['ctx-size'], default: SERVER_DEFAULTS.ctx, describe: `${FLAGS['ctx-size'].describe} (serve: tokens per slot, one request's prompt + completion; also --ctx)` })
      .option('queue', { type: 'number', describe: `requests that may wait for a slot before 429 (default ${SERVER_DEFAULTS.queuePerSlot} x slots)` })
      .option('host', { type: 'string', default: SERVER_DEFAULTS.host, describe: 'address to bind; anything but loopback needs --api-key' })
      .option('port', { type: 'number', default: SERVER_DEFAULTS.port, describe: '0 = any free port' })
      .option('api-key', { type: 'string', describe: 'require Authorization: Bearer <key> (or set EIA_NATIVE_API_KEY, which keeps it out of the process list)' })
      .option('threads', FLAGS.threads)
      .option('gpu-layers', FLAGS['gpu-layers'])
      .option('body-limit', { type: 'number', default: SERVER_DEFAULTS.bodyLimit, describe: 'largest request body in bytes' })
      .option('drain-ms', { type: 'number', default: SERVER_DEFAULTS.drainMs, describe: 'on shutdown, how long running requests may take to finish' })
      .option('log', { type: 'boolean', default: false, describe: 'log every request (JSON lines on stdout)' })
      .example('$0 serve -m p.gguf --vectors probes', 'http://127.0.0.1:8080/v1 (OpenAI clients: baseURL)')
      .example('EIA_NATIVE_API_KEY=secret $0 serve --model qwen2.5-0.5b --host 0.0.0.0 --slots 8 --ctx 4096', 'reachable from the network, with a key')
      .epilog('Directions are used as unit vectors: a request\'s scale is the size of the vector added at each position, bounded by 100 x the ' +
        'steered block\'s residual norm (docs/cli.md: "Steering strength"); beyond it the request gets a 400.') as never,
  handler: async (a) => {
    checkModelFlags(a);
    const apiKey = a['api-key'] ?? process.env.EIA_NATIVE_API_KEY ?? null;
    if (a['api-key'] === '') throw new UsageError('--api-key needs a value');
    if (!isLoopback(a.host) && !apiKey) throw new UsageError(`refusing to listen on ${a.host} without --api-key (or EIA_NATIVE_API_KEY): anyone who can reach it could use the model`);
    intFlag(a.slots, '--slots', 1, engineLimits().maxSequences);
    intFlag(a['ctx-size'], '--ctx-size', 16);
    optIntFlag(a.queue, '--queue', 0);
    intFlag(a.port, '--port', 0, 65535);
    intFlag(a['body-limit'], '--body-limit', 1);
    intFlag(a['drain-ms'], '--drain-ms', 0);
    let server;
    try {
      server = await createServer({
        model: modelPathArg(a.model), vectors: a.vectors ?? null, slots: a.slots, ctx: a['ctx-size'], queue: a.queue, host: a.host, port: a.port,
        apiKey, threads: a.threads, gpuLayers: a['gpu-layers'], bodyLimit: a['body-limit'], drainMs: a['drain-ms'], logger: a.log,
      });
    } catch (e) {
      throw inFlagWords(e, OPTION_FLAGS);
    }
    // probes of another model in the folder: a warning line each (stderr, or the request log with --log)
    await server.vectorWarnings();
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
