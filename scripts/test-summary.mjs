#!/usr/bin/env node
// Reads a vitest log and prints the plain CI line "N passed, N failed" (skipped tests on the line before).
// Exit code: non-zero when the run failed or no test ran.
import { readFileSync } from 'node:fs';

const [logPath, statusArg] = process.argv.slice(2);
// eslint-disable-next-line no-control-regex
const text = readFileSync(logPath, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
const line = text.split('\n').reverse().find((l) => /^\s*Tests\s+/.test(l));
const count = (word) => {
  const m = line && new RegExp(`(\\d+) ${word}`).exec(line);
  return m ? Number(m[1]) : 0;
};
const passed = count('passed');
let failed = count('failed');
const skipped = count('skipped');
const status = Number(statusArg ?? 0);
if (!line || (status !== 0 && failed === 0)) failed += 1;  // the run broke outside the tests
// the last line is exactly "N passed, N failed" (what CI reads); skipped tests are counted on the line before
if (skipped) console.log(`(${skipped} skipped, each with its reason in the log above)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 || status !== 0 ? 1 : 0);
