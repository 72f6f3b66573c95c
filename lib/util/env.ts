// Environment flags shared by several layers, parsed in one place. Flags that belong to one
// module stay with it (EIA_NATIVE_HOME in models/cache.ts, EIA_NATIVE_BENCH_* in bench/).

/** EIA_NATIVE_QUIET=1 (or true) silences progress displays and messages for people on stderr. */
export function isQuiet(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.EIA_NATIVE_QUIET?.trim().toLowerCase();
  return v === '1' || v === 'true';
}

/** EIA_NATIVE_JUDGE_KEY: the API key of the LLM judge's endpoint (`--judge-key` overrides it). */
export function judgeKeyFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.EIA_NATIVE_JUDGE_KEY?.trim();
  return v ? v : undefined;
}
