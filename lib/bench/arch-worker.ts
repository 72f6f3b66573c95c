// The architecture table's worker process (architecture-table.ts): runs the checks of one model per
// request, so that llama.cpp aborting on one architecture ends this process, not the table.
import { checkArchitecture } from './architectures.js';
import { serveWorker } from './proc.js';

serveWorker({
  async check(a) {
    return checkArchitecture(String(a.file), typeof a.threads === 'number' ? a.threads : 1);
  },
});
