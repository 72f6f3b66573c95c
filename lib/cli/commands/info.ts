// eia-native info [--model F] [--json]: what runs (llama.cpp release, prebuilt or source runtime,
// backends loaded with their paths and CPU variant, devices) and a model's facts. Exit 1 when the
// runtime cannot run (its reason is printed), so a broken install is visible at once.
import type { CommandModule } from 'yargs';
import { runtimeInfo } from '../../engine/runtime-info.js';
import { Model } from '../../engine/model.js';
import { EiaError } from '../../util/errors.js';
import { modelPathArg, printJson } from '../common.js';
import { FLAGS } from '../flags.js';

interface Args { model?: string; json?: boolean }

const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;

export const infoCommand: CommandModule<object, Args> = {
  command: 'info',
  describe: 'Show what runs: llama.cpp release, prebuilt or source runtime, backends and devices; and a model\'s facts',
  builder: (y) =>
    y.option('model', FLAGS.model)
      .option('json', FLAGS.json)
      .example('$0 info', 'runtime, backends, devices')
      .example('EIA_GPU=cpu $0 info --json', 'the same as JSON, with GPU backends left unloaded')
      .example('$0 info --model m.gguf --json', 'model facts as JSON') as never,
  handler: async (a) => {
    const rt = runtimeInfo();
    let model: Record<string, unknown> | undefined;
    if (a.model && !rt.error) {
      const m = await Model.load(modelPathArg(a.model), { vocabOnly: false });
      const { chatTemplate, ...rest } = m.info;
      model = { ...rest, hasChatTemplate: chatTemplate.length > 0 };
      m.free();
    }
    if (a.json) {
      printJson({
        llama_commit: rt.llamaCommit, llama_source: rt.llamaSource, runtime: rt.runtime, runtime_package: rt.runtimePackage,
        lib_dir: rt.libDir, gpu_policy: rt.gpuPolicy, gpu: rt.gpu, cpu_variant: rt.cpuVariant, backends: rt.backends,
        devices: rt.devices, system_info: rt.systemInfo.trim(), error: rt.error || null, model,
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
      }
    }
    if (rt.error) throw new EiaError('E_RUNTIME', rt.error);
  },
};
