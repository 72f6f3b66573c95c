// Types of scripts/vendor-llama.mjs for TypeScript callers (tests).
export declare const LLAMA_PIN: { npmPackage: string; version: string; integrity: string; bundlePath: string; commit: string };
export declare function materialise(): { dir: string; commit: string; fresh: boolean };
export declare function eiaCacheRoot(): string;
