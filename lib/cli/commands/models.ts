// eia-native models [--json] and eia-native pull NAME: the registry (models.json) and downloads.
import type { CommandModule } from 'yargs';
import { listModels } from '../../models/registry.js';
import { isCached, modelPath, cacheDir } from '../../models/cache.js';
import { pull } from '../../models/pull.js';
import { createProgress } from '../../util/progress.js';
import { printJson } from '../common.js';
import { FLAGS } from '../flags.js';

export const modelsCommand: CommandModule<object, { json: boolean }> = {
  command: 'models',
  describe: 'List the registered models (the paper\'s three + small starters) and which are downloaded',
  builder: (y) => y.option('json', FLAGS.json).example('$0 models --json', 'the registry as JSON') as never,
  handler: (a) => {
    const models = listModels().map((m) => ({ ...m, cached: isCached(m), path: modelPath(m) }));
    if (a.json) return printJson({ cacheDir: cacheDir(), models });
    for (const m of models) {
      process.stdout.write(`${m.cached ? '*' : ' '} ${m.name.padEnd(22)} ${m.arch.padEnd(6)} L=${String(m.nLayer).padEnd(3)} d=${String(m.nEmbd).padEnd(5)} ${m.repo}/${m.file}\n`);
    }
    process.stdout.write(`\n* = downloaded (cache: ${cacheDir()}; set EIA_NATIVE_HOME to move it)\n`);
  },
};

export const pullCommand: CommandModule<object, { name: string; json: boolean; force: boolean; 'base-url'?: string }> = {
  command: 'pull <name>',
  describe: 'Download a registered model from Hugging Face (resumable, checksum-verified; HF_TOKEN honoured)',
  builder: (y) =>
    y.positional('name', { type: 'string', demandOption: true, describe: 'a name from `eia-native models`' })
      .option('force', { type: 'boolean', default: false, describe: 'replace the cached file: download again even if cached' })
      .option('base-url', { type: 'string', describe: 'Hugging Face endpoint or mirror (default $HF_ENDPOINT or https://huggingface.co)' })
      .option('json', FLAGS.json)
      .example('$0 pull qwen2.5-0.5b', 'then: eia-native run --model qwen2.5-0.5b') as never,
  handler: async (a) => {
    let bar: ReturnType<typeof createProgress> | null = null;
    const r = await pull(a.name, {
      force: a.force,
      baseUrl: a['base-url'] ?? process.env.HF_ENDPOINT,
      onProgress: (p) => {
        bar ??= createProgress({ label: `pull ${a.name}`, total: p.total ?? 0, unit: 'bytes', initial: p.resumedFrom });
        bar.update(p.bytes);
      },
    });
    (bar as ReturnType<typeof createProgress> | null)?.done();
    if (a.json) return printJson(r);
    process.stdout.write(`${r.downloaded ? 'downloaded' : 'already cached'}: ${r.path} (sha256 ${r.sha256}${r.verified ? ', verified' : ', no pinned checksum'})\n`);
  },
};
