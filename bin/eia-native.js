#!/usr/bin/env node
// Thin launcher: the CLI lives in lib/cli (compiled to dist/cli).
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  process.stderr.write(`eia-native: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
