// eia-native CLI entry: yargs with one module per command (lib/cli/commands/*). Exit codes:
// 0 ok, 1 failure, 2 usage error, 130 interrupted.
import yargs, { type CommandModule } from 'yargs';
import { readFileSync } from 'node:fs';
import { commands } from './commands/index.js';
import { UsageError } from './common.js';
import { packageRoot } from '../engine/native.js';

function version(): string {
  try {
    return JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[]): Promise<void> {
  let usageFailure = false;
  const cli = yargs(argv)
    .scriptName('eia-native')
    .usage('$0 <command> [options]\n\nDetect and steer empathy-in-action inside local LLMs (GGUF models via llama.cpp).')
    .version(version())
    .strict()
    .demandCommand(1, 'name a command (see the list above)')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .epilog('Docs: README.md. Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted.')
    .fail((msg, err) => {
      if (err && !(err instanceof UsageError)) throw err;
      usageFailure = true;
      process.stderr.write(`eia-native: ${msg || err?.message}\nRun with --help for usage.\n`);
      process.exit(2);
    });
  for (const c of commands) cli.command(c as CommandModule);
  try {
    await cli.parseAsync();
  } catch (err) {
    if (usageFailure) return;
    const e = err as Error & { exitCode?: number };
    process.stderr.write(`eia-native: ${e?.message ?? String(err)}\n`);
    process.exit(e?.exitCode ?? 1);
  }
}
