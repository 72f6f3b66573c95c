// Types of scripts/llama-server.mjs for TypeScript callers (bench/serve-vs-llama-server.ts).
export declare function llamaServerBuildDir(): string;
export declare function buildLlamaServer(opts: { variants: string[]; jobs?: number }): string;
export declare function variantDir(variant: string, build?: string): string;
