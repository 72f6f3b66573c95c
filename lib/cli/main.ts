// eia-native CLI entry: yargs with one module per command (lib/cli/commands/*). Every failure
// leaves as an EiaError whose code picks the exit code (exit-codes.ts) and is printed with it.
import yargs, { type CommandModule } from 'yargs';
import { commands } from './commands/index.js';
import { EXIT_CODES, EXIT_CODES_HELP, exitCodeOf } from './exit-codes.js';
import { UsageError } from './common.js';
import { asIoError } from '../util/io-error.js';
import { packageVersion } from '../util/package.js';

export async function main(argv: string[]): Promise<void> {
  let usageFailure = false;
  const cli = yargs(argv)
    .scriptName('eia-native')
    .usage('$0 <command> [options]\n\nDetect and steer empathy-in-action inside local LLMs (GGUF models via llama.cpp).')
    .version(packageVersion())
    .strict()
    .demandCommand(1, 'name a command (see the list above)')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .epilog(`Docs: README.md. ${EXIT_CODES_HELP}`)
    .fail((msg, err) => {
      if (err && !(err instanceof UsageError)) throw err;
      usageFailure = true;
      process.stderr.write(`eia-native: [E_BAD_ARG] ${msg || err?.message}\nRun with --help for usage.\n`);
      process.exit(EXIT_CODES.E_BAD_ARG);
    });
  for (const c of commands) cli.command(c as CommandModule);
  try {
    await cli.parseAsync();
  } catch (err) {
    if (usageFailure) return;
    const e = asIoError(err);
    process.stderr.write(`eia-native: [${e.code}] ${e.message}\n`);
    process.exit(exitCodeOf(e));
  }
}
