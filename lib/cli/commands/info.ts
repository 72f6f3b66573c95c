// eia-native info [--model F] [--json]: the build (llama.cpp commit, backends) and a model's facts.
import type { CommandModule } from 'yargs';
import { buildInfo } from '../../engine/build-info.js';
import { Model } from '../../engine/model.js';
import { modelPathArg, printJson } from '../common.js';

interface Args { model?: string; json?: boolean }

export const infoCommand: CommandModule<object, Args> = {
  command: 'info',
  describe: 'Show the llama.cpp commit and compiled backends, and a model\'s architecture',
  builder: (y) =>
    y.option('model', { type: 'string', describe: 'GGUF file or model name' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .example('$0 info', 'build info')
      .example('$0 info --model m.gguf --json', 'model facts as JSON') as never,
  handler: async (a) => {
    const build = buildInfo();
    let model: Record<string, unknown> | undefined;
    if (a.model) {
      const m = await Model.load(modelPathArg(a.model), { vocabOnly: false });
      const { chatTemplate, ...rest } = m.info;
      model = { ...rest, hasChatTemplate: chatTemplate.length > 0 };
      m.free();
    }
    if (a.json) return printJson({ build, model });
    process.stdout.write(`llama.cpp   ${build.llamaCommit} (${build.llamaSource})\n`);
    process.stdout.write(`gpu switch  ${build.gpu}\nbackends    ${build.backends.join(', ')}\ndevices     ${build.devices.join('; ')}\n`);
    process.stdout.write(`system      ${build.systemInfo.trim()}\n`);
    if (model) {
      process.stdout.write(`\nmodel       ${model.path}\narch        ${model.arch}  layers ${model.nLayer}  d_model ${model.nEmbd}  vocab ${model.nVocab}  ctx_train ${model.nCtxTrain}\n`);
      process.stdout.write(`params      ${model.nParams}  size ${model.sizeBytes} bytes  BOS ${model.bos} EOS ${model.eos}  chat template ${model.hasChatTemplate ? 'yes' : 'no'}\n`);
    }
  },
};
