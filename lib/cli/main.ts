// eia-native CLI entry: yargs with one module per command (lib/cli/commands/*). Every failure
// leaves as an EiaError whose code picks the exit code (exit-codes.ts) and is printed with it.
// The grammar shared by all commands (flags.ts, docs/cli.md) is enforced here
// before any command runs: llama.cpp's -ngl, renamed flags, flags without values, the number
// grammar, and a flag given twice.
import yargs, { type Arguments, type Argv, type CommandModule } from 'yargs';
import { commands } from './commands/index.js';
import { EXIT_CODES, EXIT_CODES_HELP, exitCodeOf } from './exit-codes.js';
import { UsageError } from './common.js';
import { checkCommandLine, RENAMED_FLAGS, restoreStdinArgs, rewriteArgv, type CommandOptions } from './flags.js';
import { asIoError } from '../util/io-error.js';
import { packageVersion } from '../util/package.js';

/** Renamed flags, then the command line as typed against the command's options (flags.ts checkCommandLine). */
function grammar(argv: Arguments, y: Argv, tokens: readonly string[]): void {
  restoreStdinArgs(argv);
  const cmd = argv._.slice(0, 2).map(String);
  for (const key of [cmd.join(' '), cmd[0]]) {
    for (const [flag, message] of Object.entries(RENAMED_FLAGS[key] ?? {})) {
      if (argv[flag] !== undefined) throw new UsageError(message);
    }
  }
  checkCommandLine(tokens, (y as unknown as { getOptions(): CommandOptions }).getOptions());
}

export async function main(argvIn: string[]): Promise<void> {
  // llama.cpp's own log lines (e.g. "failed to decode" when Ctrl-C aborts a decode) stay off the
  // terminal: every native failure already comes back as an EiaError with that text. Set
  // EIA_NATIVE_LOG_LEVEL (1 errors .. 4 debug) to see them.
  process.env.EIA_NATIVE_LOG_LEVEL ??= '0';
  let usageFailure = false;
  const tokens = rewriteArgv(argvIn);
  const cli = yargs(tokens)
    .scriptName('eia-native')
    .usage('$0 <command> [options]\n\nDetect and steer empathy-in-action inside local LLMs (GGUF models via llama.cpp).')
    .version(packageVersion())
    .strict()
    .demandCommand(1, 'name a command (see the list above)')
    .recommendCommands()
    .middleware(((argv: Arguments, y: Argv) => grammar(argv, y, tokens)) as never, true)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .epilog(`Docs: README.md and docs/ (the grammar and every flag: docs/cli.md). ${EXIT_CODES_HELP}`)
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
