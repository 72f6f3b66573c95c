// Every CLI command, one module each (keep the list sorted by the order --help shows).
import type { CommandModule } from 'yargs';
import { infoCommand } from './info.js';
import { synthCommand } from './synth.js';
import { captureCommand } from './capture.js';
import { generateCommand } from './generate.js';
import { cvecCommand } from './cvec.js';
import { probeCommand } from './probe.js';
import { correlateCommand } from './correlate.js';
import { alignCommand } from './align.js';
import { statsCommand } from './stats.js';
import { steerCommand } from './steer.js';
import { tuneCommand } from './tune.js';
import { scoreCommand } from './score.js';
import { reportCommand } from './report.js';
import { mergeCommand } from './merge.js';
import { pairsCommand } from './pairs.js';
import { runCommand } from './run.js';
import { studyCommand } from './study.js';
import { quantizeCommand } from './quantize.js';
import { demoCommand } from './demo.js';
import { modelsCommand, pullCommand } from './models.js';
import { benchCommand } from './bench.js';
import { serveCommand } from './serve.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  demoCommand,
  runCommand,
  studyCommand,
  quantizeCommand,
  modelsCommand,
  pullCommand,
  infoCommand,
  synthCommand,
  captureCommand,
  generateCommand,
  cvecCommand,
  probeCommand,
  correlateCommand,
  alignCommand,
  statsCommand,
  steerCommand,
  tuneCommand,
  scoreCommand,
  reportCommand,
  mergeCommand,
  pairsCommand,
  benchCommand,
  serveCommand,
];
