// One CLI grammar: docs/cli.md's flag table lists every flag of every command, once (one meaning),
// with the commands that take it and its alias, exactly as the commands define them; renamed flags
// are no longer defined where their rename message applies; the argv rewriting before yargs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs, { type CommandModule } from 'yargs';
import { describe, expect, it } from 'vitest';
import { commands } from '../../lib/cli/commands/index.js';
import { CVEC_SUBCOMMANDS } from '../../lib/cli/commands/cvec.js';
import { checkCommandLine, RENAMED_FLAGS, restoreStdinArgs, rewriteArgv, type CommandOptions } from '../../lib/cli/flags.js';
import { parseIntList, parseNumberList, parseStringList } from '../../lib/cli/common.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every leaf command (cvec's subcommands as "cvec export" / "cvec import") with its flags and their aliases. */
function definedFlags(): Map<string, { commands: Set<string>; alias: Set<string> }> {
  const leaves: [string, CommandModule][] = [];
  for (const c of commands) {
    const name = String(c.command).split(' ')[0];
    if (name === 'cvec') for (const [k, sc] of Object.entries(CVEC_SUBCOMMANDS)) leaves.push([`cvec ${k}`, sc as CommandModule]);
    else leaves.push([name, c as CommandModule]);
  }
  const flags = new Map<string, { commands: Set<string>; alias: Set<string> }>();
  for (const [name, c] of leaves) {
    const y = yargs([]);
    (c.builder as (y: unknown) => unknown)(y);
    const o = (y as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
    const positionals = [...String(c.command).matchAll(/[<[](\w+)(?:\.\.)?[>\]]/g)].map((m) => m[1]);  // <run>, variadic <runs..> or optional [file]
    const aliases = new Set(Object.values(o.alias).flat());
    for (const k of Object.keys(o.key)) {
      if (aliases.has(k) || k === 'help' || k === 'version' || positionals.includes(k)) continue;
      const f = flags.get(k) ?? { commands: new Set<string>(), alias: new Set<string>() };
      f.commands.add(name);
      for (const a of o.alias[k] ?? []) f.alias.add(a);
      flags.set(k, f);
    }
  }
  return flags;
}

/** docs/cli.md's flag table: flag -> {commands, alias}; rows in order. */
function readmeTable(): { flag: string; alias: string; commands: string[] }[] {
  const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
  const start = doc.indexOf('| flag | alias | commands | meaning |');
  expect(start, 'docs/cli.md has the flag table').toBeGreaterThan(0);
  const lines = doc.slice(start).split('\n');
  const rows = lines.slice(2, lines.findIndex((l, i) => i > 1 && !l.startsWith('|')));
  return rows.map((r) => {
    const cells = r.split('|').slice(1, -1).map((c) => c.trim());
    return { flag: cells[0].replace(/`/g, '').replace(/^--/, ''), alias: cells[1].replace(/`/g, '').replace(/^-+/, ''), commands: cells[2].split(',').map((x) => x.trim()) };
  });
}

describe('CLI grammar', () => {
  it('docs/cli.md lists every flag once, with exactly the commands and the alias that define it', () => {
    const defined = definedFlags();
    const table = readmeTable();
    const names = table.map((r) => r.flag);
    expect(new Set(names).size, 'a flag listed twice (one name, one meaning)').toBe(names.length);
    expect(names.filter((n) => !defined.has(n)), 'in docs/cli.md but no command defines it').toEqual([]);
    expect([...defined.keys()].filter((n) => !names.includes(n)).sort(), 'defined but not in docs/cli.md').toEqual([]);
    for (const r of table) {
      const d = defined.get(r.flag)!;
      expect([...r.commands].sort(), `--${r.flag}: commands`).toEqual([...d.commands].sort());
      // -ngl is no yargs alias (yargs would read -n -g -l): rewriteArgv turns it into --gpu-layers (tested below)
      expect(r.alias, `--${r.flag}: alias`).toBe(r.flag === 'gpu-layers' ? 'ngl' : [...d.alias].join(','));
    }
  });

  it('llama.cpp\'s short flags are the aliases of the same flags everywhere', () => {
    const defined = definedFlags();
    expect([...defined.get('model')!.alias]).toEqual(['m']);
    expect([...defined.get('ctx-size')!.alias]).toEqual(['c']);
    expect([...defined.get('max-tokens')!.alias]).toEqual(['n']);
    expect([...defined.get('threads')!.alias]).toEqual(['t']);
    expect(rewriteArgv(['generate', '-ngl', '-1', '-ngl=2'])).toEqual(['generate', '--gpu-layers', '-1', '--gpu-layers=2']);
    // serve's contract name --ctx is --ctx-size (one flag, one meaning); other commands do not take it
    expect(rewriteArgv(['serve', '--ctx', '64', '--ctx=128'])).toEqual(['serve', '--ctx-size', '64', '--ctx-size=128']);
    expect(rewriteArgv(['generate', '--ctx', '64'])).toEqual(['generate', '--ctx', '64']);
  });

  it('renamed flags are not defined where their rename message applies (so the message is what the user sees)', () => {
    const defined = definedFlags();
    for (const [cmd, olds] of Object.entries(RENAMED_FLAGS)) {
      for (const old of Object.keys(olds)) expect(defined.get(old)?.commands.has(cmd) ?? false, `${cmd} --${old}`).toBe(false);
    }
  });

  it('the command line as typed: values required, decimal numbers, a flag once, no repeated values (issue 23)', () => {
    // the options of a command as yargs reports them (getOptions()): a number, a string, a switch, a repeatable flag, an alias
    const o: CommandOptions = {
      key: { samples: true, temp: true, out: true, json: true, stop: true, 'max-tokens': true, n: true, 'model-hint': true, shard: true },
      alias: { 'max-tokens': ['n'] }, array: ['stop'], boolean: ['json'], number: ['samples', 'temp', 'max-tokens', 'n'],
      default: { 'model-hint': '' },
    };
    const ok = (...argv: string[]) => expect(() => checkCommandLine(argv, o), argv.join(' ')).not.toThrow();
    const bad = (re: RegExp, ...argv: string[]) => expect(() => checkCommandLine(argv, o), argv.join(' ')).toThrow(re);
    ok('steer', '--samples', '5', '--temp=-0.5', '-n', '7', '--out', 'r', '--stop', 'a', '--stop', 'b', '--json', '--model-hint=', '--temp2');
    ok('steer', '--samples', '1e3', '-n5', '--shard=-1/3', '--', '--samples', '--samples');
    bad(/^--samples needs a value$/, 'steer', '--samples');
    bad(/^--samples needs a value$/, 'steer', '--samples', '--out', 'r');
    bad(/--samples needs a value \('-Infinity' reads as a flag; a value that begins with '-' is written --samples=-Infinity\)/, 'steer', '--samples', '-Infinity');
    bad(/--shard needs a value \('-1\/3' reads as a flag/, 'steer', '--shard', '-1/3');
    bad(/^--out needs a value$/, 'steer', '--out');
    bad(/--out needs a value \(got an empty one\)/, 'steer', '--out=');
    for (const v of ['0x10', '0b11', '0o7', 'Infinity', 'NaN', '', ' 5', '1_000', '5px']) bad(/--samples (must be a decimal number|needs a value)/, 'steer', `--samples=${v}`);
    bad(/--max-tokens must be a decimal number, got '0x10'/, 'steer', '-n0x10');
    bad(/--max-tokens must be a decimal number, got '0x10'/, 'steer', '-n', '0x10');
    bad(/--samples is given 2 times; it takes one value/, 'steer', '--samples', '5', '--samples', '5');
    bad(/--max-tokens is given 2 times/, 'steer', '-n', '5', '--max-tokens', '5');
    bad(/--json is given 2 times; give it once/, 'steer', '--json', '--json');
    bad(/--stop is given the value 'a' twice/, 'steer', '--stop', 'a', '--stop', 'a');
    bad(/--stop needs a value/, 'steer', '--stop', '--json');
  });

  it('lists refuse a value listed twice with one message, and numbers in other bases', () => {
    expect(() => parseIntList('1,1', '--layers')).toThrow(/^--layers: 1 is listed twice$/);
    expect(() => parseNumberList('-0,0', '--alphas')).toThrow(/^--alphas: 0 is listed twice$/);
    expect(() => parseStringList('a,b,a', '--scenarios')).toThrow(/^--scenarios: a is listed twice$/);
    expect(() => parseNumberList('0x10', '--alphas')).toThrow(/'0x10' is not a number/);
    expect(() => parseNumberList('1,Infinity', '--alphas')).toThrow(/'Infinity' is not a number/);
    expect(parseNumberList('-5,0,1e-3', '--alphas')).toEqual([-5, 0, 0.001]);
    expect(() => parseIntList('99999999999999999999', '--layers')).toThrow(/is not an integer/);
  });

  it("'-' reaches the command as '-', as a flag's value and as a positional", () => {
    const argv = rewriteArgv(['score', '-', '--input', '-', '--alphas=-5,0']);
    expect(argv[2]).toBe('--input=-');
    expect(argv[3]).toBe('--alphas=-5,0');
    const parsed: Record<string, unknown> = { source: argv[1], input: '-', list: [argv[1]] };
    restoreStdinArgs(parsed);
    expect(parsed).toEqual({ source: '-', input: '-', list: ['-'] });
  });
});
