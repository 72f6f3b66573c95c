// The key style of eia-native's files and of the CLI's --json output is snake_case (docs/formats.md).
// TypeScript objects use camelCase; `snakeCaseKeys` converts one whose keys are all field names at
// the file or stdout boundary, and readers apply it to files written before the rule (camelCase),
// so old and new files read the same. Never apply it to a map keyed by data (model names, layers).

/** "aurocCI" -> "auroc_ci", "nTrain" -> "n_train", "p95" -> "p95", "already_snake" unchanged. */
export function snakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

/** A deep copy of `value` with every object key in snake_case (arrays and typed arrays: elements converted). */
export function snakeCaseKeys<T = unknown>(value: unknown): T {
  if (Array.isArray(value)) return value.map((v) => snakeCaseKeys(v)) as T;
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>) as T;
  if (value === null || typeof value !== 'object') return value as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[snakeCase(k)] = snakeCaseKeys(v);
  return out as T;
}
