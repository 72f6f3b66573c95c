// Types of scripts/arch-models.mjs for TypeScript callers (tests).
export interface ArchModelsManifest {
  tool: string; commit: string; patches: string[]; build_key: string; seed: number; written_at: string;
  models: { file: string; arch: string; kind: 'dense' | 'moe'; bytes: number }[];
  /** architectures the patched tool wrote but llama.cpp did not load back (removed) */
  not_written: { arch: string; kind: 'dense' | 'moe'; reason: string }[];
}
export declare const ARCH_MODELS_SEED: number;
export declare function archModelsDir(seed?: number): string;
export declare function archModelsManifest(seed?: number): ArchModelsManifest | null;
export declare function writeArchModels(opts?: { seed?: number; out?: string; jobs?: number }): string;
