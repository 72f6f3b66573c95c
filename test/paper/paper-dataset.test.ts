// The paper's dataset fetched at run time: pinned URLs, sha256-checked, cached (local server only;
// it serves the paper's files from ../shared, so the download test needs them there).
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPaperDataset, PAPER_DATASET } from '../../lib/data/paper-dataset.js';
import { readPairs } from '../../lib/probes/dataset.js';
import { tempDir } from '../helpers/fixtures.js';
import { itWithPaper, PAPER_DIR as ref } from '../helpers/paper.js';

const tmp = tempDir('eia-data-');
afterAll(() => tmp.cleanup());

function serve(handler: (path: string) => { status: number; body?: Buffer }): Promise<{ url: string; server: Server; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const r = handler(req.url ?? '');
    res.writeHead(r.status);
    res.end(r.body ?? '');
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits })));
}

describe('paper dataset download', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    const prefix = `/${PAPER_DATASET.repo}/${PAPER_DATASET.commit}/`;
    srv = await serve((p) => {
      if (!p.startsWith(prefix)) return { status: 404 };
      const f = join(ref, p.slice(prefix.length));
      return existsSync(f) ? { status: 200, body: readFileSync(f) } : { status: 404 };
    });
  });
  afterAll(() => srv.server.close());

  itWithPaper('downloads every pinned file from <base>/<repo>/<commit>/<path>, verifies it and caches it', async () => {
    const env = { EIA_NATIVE_HOME: join(tmp.dir, 'ok') };
    const files = await fetchPaperDataset({ baseUrl: srv.url, env });
    expect(readPairs(files.train).length).toBe(35);
    expect(readPairs(files.test).length).toBe(15);
    const hits = srv.hits.length;
    await fetchPaperDataset({ baseUrl: srv.url, env });
    expect(srv.hits.length).toBe(hits);  // cached: no second download
  });

  it('a wrong checksum is an error and nothing is saved; a 404 is an error', async () => {
    const bad = await serve(() => ({ status: 200, body: Buffer.from('{"not":"the file"}\n') }));
    const env = { EIA_NATIVE_HOME: join(tmp.dir, 'bad') };
    await expect(fetchPaperDataset({ baseUrl: bad.url, env })).rejects.toThrow(/checksum mismatch.*expected sha256/);
    const dir = join(tmp.dir, 'bad', 'data', 'empathy-probes', PAPER_DATASET.commit);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    bad.server.close();
    const missing = await serve(() => ({ status: 404 }));
    await expect(fetchPaperDataset({ baseUrl: missing.url, env })).rejects.toThrow(/HTTP 404/);
    missing.server.close();
  });
});
