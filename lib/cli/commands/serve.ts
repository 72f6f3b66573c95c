// eia-native serve: the OpenAI-compatible server (lib/server) from the command line. Runs until
// SIGINT/SIGTERM, then drains: new requests get 503, running ones finish, exit 0. A second signal ends
// the drain at once: running streams end with an error event (`shutting_down`), whole responses get a
// 503, and the process exits 130 (interrupted) once they are answered.
// The shared flags (--model/-m, --ctx-size/-c, which `--ctx` also reaches, --threads/-t,
// --gpu-layers/-ngl) come from flags.ts; usage errors exit 2 and name flags; the address it listens on
// is a note on stderr (like every note), request logs (--log) are JSON lines on stdout.
import type { CommandModule } from 'yargs';
import { createServer, SERVER_DEFAULTS } from '../../server/index.js';
import { isLoopback } from '../../server/auth.js';
import { engineLimits } from '../../engine/defaults.js';
import { note, warn } from '../../util/note.js';
import { modelPathArg, UsageError } from '../common.js';
import { checkModelFlags, FLAGS, inFlagWords, intFlag, optIntFlag } from '../flags.js';

/** After a second signal: how long the cut requests get to receive their error before the process exits regardless. */
const FORCED_EXIT_MS = 5000;

interface Args {
  model: string; vectors?: string; slots: number; 'ctx-size': number; queue?: number; host: string; port: number;
  'api-key'?: string; threads?: number; 'gpu-layers': number; 'body-limit': number; 'request-timeout-ms': number; 'drain-ms': number; log: boolean; ui: boolean;
}

/** createServer's option names -> the flags that set them (for its messages). */
const OPTION_FLAGS: Record<string, string> = {
  slots: '--slots', ctx: '--ctx-size', queue: '--queue', bodyLimit: '--body-limit', vectors: '--vectors', model: '--model',
  requestTimeoutMs: '--request-timeout-ms',
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
      .option('request-timeout-ms', { type: 'number', default: SERVER_DEFAULTS.requestTimeoutMs, describe: 'time a client has to send its whole request, headers and body (then 408 and the connection is closed); 0 = no limit' })
      .option('drain-ms', { type: 'number', default: SERVER_DEFAULTS.drainMs, describe: 'on shutdown, how long running requests may take to finish' })
      .option('log', { type: 'boolean', default: false, describe: 'log every request (JSON lines on stdout)' })
      .option('ui', { type: 'boolean', default: true, describe: 'serve the playground page at / (--no-ui: the API only)' })
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
    intFlag(a['request-timeout-ms'], '--request-timeout-ms', 0, 2 ** 31 - 1);
    intFlag(a['drain-ms'], '--drain-ms', 0);
    let server;
    try {
      server = await createServer({
        model: modelPathArg(a.model), vectors: a.vectors ?? null, slots: a.slots, ctx: a['ctx-size'], queue: a.queue, host: a.host, port: a.port,
        apiKey, threads: a.threads, gpuLayers: a['gpu-layers'], bodyLimit: a['body-limit'], requestTimeoutMs: a['request-timeout-ms'], drainMs: a['drain-ms'], logger: a.log, ui: a.ui,
      });
    } catch (e) {
      throw inFlagWords(e, OPTION_FLAGS);
    }
    // probes of another model in the folder: a warning line each (stderr, or the request log with --log)
    await server.vectorWarnings();
    const addr = await server.listen();
    note(`eia-native serve: ${server.modelId} on ${addr.url}/v1 (${server.slots} slots x ${server.nCtxSlot} tokens${a.vectors ? `, vectors from ${a.vectors}` : ''}${apiKey ? ', API key required' : ''})`);
    if ('problem' in server.ui) warn(`eia-native serve: no playground at ${addr.url}/: ${server.ui.problem}`);
    else if (server.ui.enabled) note(`eia-native serve: playground on ${addr.url}/`);
    let forced = false;
    await new Promise<void>((resolve) => {
      let signals = 0;
      const stop = (sig: NodeJS.Signals) => {
        signals++;
        if (signals === 1) {
          note(`eia-native serve: ${sig}: draining (new requests get 503; send it again to stop at once)`);
          void server.close().then(resolve, (e: unknown) => { note(`eia-native serve: ${(e as Error).message}`); process.exit(1); });
          return;
        }
        if (signals === 2) {
          forced = true;
          const st = server.stats();
          note(`eia-native serve: ${sig} again: stopping now (${st.busy} running and ${st.queued} queued sequences end with an error)`);
          // the drain ends at once; close() resolves once every response has its error and the port is released
          void server.close({ drainMs: 0 });
          // should a connection still hang on, the process ends anyway
          setTimeout(() => { note('eia-native serve: exiting with connections still open'); process.exit(130); }, FORCED_EXIT_MS).unref();
          return;
        }
        process.exit(130);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    if (forced) {
      note('eia-native serve: stopped before its requests finished (exit 130)');
      process.exit(130);
    }
    note('eia-native serve: stopped');
  },
};
