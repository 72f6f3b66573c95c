// The pinned llama.cpp source (kept in sync with scripts/vendor-llama.mjs, which a test checks).
export const LLAMA_PIN = {
  npmPackage: 'node-llama-cpp',
  version: '3.21.1',
  commit: '80fb11ac73e66d89eae2c6a91d8a77428fa733ed',
} as const;
