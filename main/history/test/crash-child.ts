// Child process for the crash test: saves batches of synthetic images through the real save path
// as fast as it can and prints the ids of every batch once saveGeneration has resolved.
// The parent kills it with SIGKILL at a random moment. (stdout to a pipe is synchronous on Linux,
// so a printed line means the save had completed.)
import { openHistory } from '../index.ts';
import { makeRequest, randomImage } from './factories.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: crash-child.ts DATA_DIR');
const store = await openHistory({ dataDir, reconcile: false });
process.stdout.write('ready\n');
for (let n = 0; ; n++) {
  const seed = Math.floor(Math.random() * 2 ** 32);
  const request = makeRequest({ prompt: `crash test ${n}`, seed, batchSize: 4 });
  const items = await store.saveGeneration({
    request,
    images: [0, 1, 2, 3].map((i) => randomImage(96, 96, seed + i, i)),
    provider: 'cpu',
    timingsMs: { total: n },
    baseModel: { id: request.baseModelId },
  });
  process.stdout.write(`saved ${items.map((i) => i.id).join(',')}\n`);
}
