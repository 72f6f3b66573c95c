// The paper's public dataset (contrastive pairs, ablated test pairs, EIA scenarios), fetched at run
// time from a pinned commit of its repository, checked against pinned sha256 sums, and cached.
// Never bundled: the package ships the URLs and checksums only.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../models/cache.js';
import { EiaError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export const PAPER_DATASET = {
  repo: 'juancadile/empathy-probes',
  commit: '3b88ecba824afceaa5eea7cae3927fb676dd1535',
  license: 'MIT',
  files: {
    train: { path: 'data/contrastive_pairs/train_pairs.jsonl', sha256: 'a35c9f7ffa35196ca2a0e157c7affbf1c5374b5873be2b59f46cc41976b7209b' },
    test: { path: 'data/contrastive_pairs/test_pairs.jsonl', sha256: '2b2612aa58028c43e695867a15df039854bdfa8134f8c3d1d233f6098f324891' },
    ablated: { path: 'data/contrastive_pairs/test_pairs_ablated.jsonl', sha256: '852e5aba2d00c554636e5eaa357b1f59c11873f7f63b4a8bd4df540143f8d9a8' },
    scenarios: { path: 'data/eia_scenarios/scenarios.json', sha256: 'bd716b019a4663a1fcb4a479b2a5ac4b44a9ef68b657b5012509bda114acf393' },
  },
} as const;

export type PaperFile = keyof typeof PAPER_DATASET.files;
export const DEFAULT_DATA_BASE_URL = 'https://raw.githubusercontent.com';

export interface FetchDatasetOptions {
  /** Server root (default raw.githubusercontent.com, or $EIA_DATA_BASE_URL); files live at <base>/<repo>/<commit>/<path>. */
  baseUrl?: string;
  fetchImpl?: typeof fetch;
  env?: NodeJS.ProcessEnv;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Local paths of the paper's files, downloading and verifying the ones not cached yet. */
export async function fetchPaperDataset(opts: FetchDatasetOptions = {}): Promise<Record<PaperFile, string>> {
  const env = opts.env ?? process.env;
  const base = (opts.baseUrl ?? env.EIA_DATA_BASE_URL ?? DEFAULT_DATA_BASE_URL).replace(/\/+$/, '');
  const dir = join(cacheDir(env), 'data', 'empathy-probes', PAPER_DATASET.commit);
  mkdirSync(dir, { recursive: true });
  const doFetch = opts.fetchImpl ?? fetch;
  const out = {} as Record<PaperFile, string>;
  for (const [key, f] of Object.entries(PAPER_DATASET.files) as [PaperFile, { path: string; sha256: string }][]) {
    const local = join(dir, f.path.split('/').pop()!);
    if (existsSync(local) && sha256(readFileSync(local)) === f.sha256) {
      out[key] = local;
      continue;
    }
    const url = `${base}/${PAPER_DATASET.repo}/${PAPER_DATASET.commit}/${f.path}`;
    let res: Response;
    try {
      res = await doFetch(url);
    } catch (e) {
      throw new EiaError('E_IO', `cannot download the paper's dataset (${url}): ${(e as Error).message}`, { cause: e });
    }
    if (!res.ok) throw new EiaError('E_IO', `cannot download ${url}: HTTP ${res.status}`);
    const body = new Uint8Array(await res.arrayBuffer());
    const got = sha256(body);
    if (got !== f.sha256) throw new EiaError('E_IO', `checksum mismatch for ${url}: expected sha256 ${f.sha256}, got ${got} (nothing was saved)`);
    writeFileAtomic(local, body);
    out[key] = local;
  }
  return out;
}
