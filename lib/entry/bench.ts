// `eia-native/bench`: the benchmark of `eia-native bench` (bench/README.md) from code.
export { runBench, type BenchOptions } from '../bench/run.js';
export { formatReport, type BenchReport } from '../bench/report.js';
export type { BenchShape } from '../bench/workload.js';
