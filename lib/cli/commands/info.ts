// eia-native info [--model F] [--vector F] [--json]: what runs (llama.cpp release, prebuilt or source
// runtime, backends loaded with their paths and CPU variant, devices), a model's facts, and a vector
// file's card (probes/vector-card.ts). Exit 1 when the runtime cannot run (its reason is printed),
// so a broken install is visible at once. With a model, the support check says whether probes and
// steering can read its residual stream (`steering`).
import { existsSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { cardLines, readVectorCards } from '../../probes/vector-card.js';
import { runtimeInfo } from '../../engine/runtime-info.js';
import { Model } from '../../engine/model.js';
import type { ResidualSupport } from '../../engine/context.js';
import { modelResidualSupport } from '../../engine/residual-support.js';
import { EiaError } from '../../util/errors.js';
import { modelPathArg, printJson, printJsonAsIs, stringArg, UsageError } from '../common.js';
import { FLAGS } from '../flags.js';

interface Args { model?: string; vector?: string; json?: boolean }

/** `info --vector FILE`: the card(s) of a probe .npy or control-vector .gguf. */
function vectorInfo(file: string, json: boolean): void {
  if (!existsSync(file)) throw new UsageError(`--vector: ${file} does not exist`);
  if (!/\.(npy|gguf)$/i.test(file)) throw new UsageError(`--vector: ${file} is neither a probe .npy nor a control-vector .gguf`);
  const cards = readVectorCards(file);
  // the cards' keys are their own (snake_case already); blocks key the map
  if (json) return printJsonAsIs({ file, kind: /\.gguf$/i.test(file) ? 'control-vector' : 'probe', cards: [...cards.values()] });
  if (cards.size === 0) {
    process.stdout.write(`${file}: no card (a file eia-native did not write, or written before vector cards; it still works as a direction)\n`);
    return;
  }
  process.stdout.write(`${file}: ${cards.size === 1 ? 'card' : `${cards.size} cards`}\n${[...cards.values()].flatMap(cardLines).join('\n')}\n`);
}

const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
const supportWord = (s: ResidualSupport) => (s.supported ? 'supported' : 'unsupported');

export const infoCommand: CommandModule<object, Args> = {
  command: 'info',
  describe: 'Show what runs: llama.cpp release, prebuilt or source runtime, backends and devices; and a model\'s facts',
  builder: (y) =>
    y.option('model', FLAGS.model)
      .option('vector', { type: 'string', describe: 'a probe .npy or control-vector .gguf: print its vector card (model, block, AUROC, dose-response, versions)' })
      .option('json', FLAGS.json)
      .example('$0 info', 'runtime, backends, devices')
      .example('EIA_GPU=cpu $0 info --json', 'the same as JSON, with GPU backends left unloaded')
      .example('$0 info --model m.gguf --json', 'model facts as JSON')
      .example('$0 info --vector runs/p/probes/layer3.npy', 'the evidence a direction carries (its card)') as never,
  handler: async (a) => {
    if (a.vector !== undefined) {
      if (a.model !== undefined) throw new UsageError('--vector and --model are separate questions: ask one at a time');
      return vectorInfo(stringArg(a.vector, '--vector'), !!a.json);
    }
    const rt = runtimeInfo();
    let model: Record<string, unknown> | undefined;
    let support: ResidualSupport | undefined;
    if (a.model && !rt.error) {
      const m = await Model.load(modelPathArg(a.model), { vocabOnly: false });
      try {
        support = await modelResidualSupport(m);
      } finally {
        m.free();
      }
      const { chatTemplate, ...rest } = m.info;
      model = { ...rest, hasChatTemplate: chatTemplate.length > 0, steering: supportWord(support) };
    }
    // the support check (docs/architectures.md): can probes and steering read this model's residual stream?
    const steering = support && {
      steering: supportWord(support), steering_reason: support.supported ? null : support.reason, block_output: support.tensor || null,
      blocks_found: support.found.length, block_count: support.found.length + support.missing.length, blocks_missing: support.missing,
    };
    if (a.json) {
      printJson({
        llama_commit: rt.llamaCommit, llama_source: rt.llamaSource, runtime: rt.runtime, runtime_package: rt.runtimePackage,
        lib_dir: rt.libDir, gpu_policy: rt.gpuPolicy, gpu: rt.gpu, cpu_variant: rt.cpuVariant, backends: rt.backends,
        devices: rt.devices, system_info: rt.systemInfo.trim(), error: rt.error || null, model, ...steering,
      });
    } else {
      const w = (k: string, v: string) => process.stdout.write(`${k.padEnd(12)}${v}\n`);
      w('llama.cpp', `${rt.llamaCommit} (${rt.llamaSource})`);
      w('runtime', rt.runtime === 'prebuilt' ? `prebuilt ${rt.runtimePackage} (${rt.libDir})` : 'source build');
      for (const b of rt.backends) {
        const what = b.status === 'loaded' || b.status === 'builtin'
          ? `${b.status}${b.variant ? ` (${b.variant})` : ''}${b.path ? ` ${b.path}` : ''}`
          : `${b.status}${b.path ? ` ${b.path}` : ''}: ${b.error}`;
        w(`backend`, `${b.name}: ${what}`);
      }
      for (const d of rt.devices) {
        w('device', `${d.name} (${d.description}, ${d.type}${d.cpuVulkan ? ', CPU-type Vulkan: the device path run on the CPU, for tests' : ''}${d.memoryTotal ? `, ${mib(d.memoryTotal)}` : ''})`);
      }
      w('runs on', rt.gpu ? `${rt.gpu} (--gpu-layers -1 offloads every layer)` : `CPU${rt.gpuPolicy === 'cpu' ? ' (EIA_GPU=cpu)' : ' (no GPU backend loaded)'}`);
      w('system', rt.systemInfo.trim());
      if (model) {
        process.stdout.write(`\nmodel       ${model.path}\narch        ${model.arch}  layers ${model.nLayer}  d_model ${model.nEmbd}  vocab ${model.nVocab}  ctx_train ${model.nCtxTrain}\n`);
        process.stdout.write(`params      ${model.nParams}  size ${model.sizeBytes} bytes  BOS ${model.bos} EOS ${model.eos}  chat template ${model.hasChatTemplate ? 'yes' : 'no'}\n`);
        if (steering) {
          process.stdout.write(`steering    ${steering.steering}: ${steering.blocks_found} of ${steering.block_count} blocks found${steering.block_output ? ` (${steering.block_output})` : ''}\n`);
          if (steering.steering_reason) process.stdout.write(`            ${steering.steering_reason}\n`);
        }
      }
    }
    if (rt.error) throw new EiaError('E_RUNTIME', rt.error);
  },
};
