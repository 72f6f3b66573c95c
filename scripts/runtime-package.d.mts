// Types of scripts/runtime-package.mjs for lib/engine/native.ts.
export declare const RUNTIME_SCOPE: string;
export declare const RUNTIME_VERSION: string;
export declare function runtimePackages(platform?: string, arch?: string): { cpu: string; gpu: string[] } | null;
export declare function runtimeLibDir(pkg: string, fromDir: string): string | null;
