// Download throughput over loopback (local Hub on 127.0.0.1): what the downloader itself costs
// (HTTP, sha256 while receiving, writes, final rename), and what a resume after a cut saves.
// `npx tsx main/models/bench/download-bench.ts [MB]` prints figures; it asserts nothing.
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ModelLibrary } from '../index.ts';
import { FakeHub } from '../test/fake-hub.ts';
import { tempDir } from '../test/helpers.ts';

const mb = Number(process.argv[2] ?? 128);
const content = randomBytes(mb * 1024 * 1024);
const hub = new FakeHub();
await hub.start();
hub.addRepo('bench/file', { 'weights.bin': content });

const t0 = performance.now();
createHash('sha256').update(content).digest('hex');
const hashMs = performance.now() - t0;

async function pullOnce(label: string, setup: () => void) {
  const { path, cleanup } = await tempDir('yoso-bench-');
  hub.storageLog.length = 0;
  setup();
  const lib = new ModelLibrary({ modelsDir: path, hub: { endpoint: hub.endpoint, token: null }, retry: { attempts: 3, baseDelayMs: 1 } });
  const start = performance.now();
  await lib.pull({ repo: 'bench/file', files: ['weights.bin'], id: 'bench' }).done;
  const ms = performance.now() - start;
  const sent = hub.bytesSentFor('weights.bin');
  console.log(
    `${label.padEnd(34)} ${(ms / 1000).toFixed(2)} s  ${((content.length / 1e6 / ms) * 1000).toFixed(0)} MB/s  ` +
      `requests ${hub.storageLog.length}  bytes sent ${(sent / 1e6).toFixed(1)} MB (file ${(content.length / 1e6).toFixed(1)} MB)`,
  );
  hub.faults.clear();
  await cleanup();
}

console.log(`file ${mb} MiB; sha256 alone: ${((content.length / 1e6 / hashMs) * 1000).toFixed(0)} MB/s`);
await pullOnce('full download', () => {});
await pullOnce('cut at 50%, resumed with Range', () => hub.faults.set('weights.bin', { cutAfter: { bytes: content.length >> 1, times: 1 } }));
await pullOnce('cut 4 times, resumed each time', () => hub.faults.set('weights.bin', { cutAfter: { bytes: content.length >> 3, times: 4 } }));
await hub.stop();
