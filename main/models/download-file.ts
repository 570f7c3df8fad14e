// Downloads one file into the staging folder so that it survives anything: the bytes go to
// `<file>.part`, a JSON sidecar remembers which remote file they belong to (ETag, commit), and a
// dropped connection, a pause or an app restart continues with an HTTP Range request for the
// missing bytes only. The sha256 is computed while the bytes arrive and checked before the caller
// may move the file anywhere.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import { authHeaders, headerValue, request, resolveUrl, statusError, type FileMetadata } from './hub.ts';
import type { HubOptions, RetryOptions } from './types.ts';
import { PullError } from './types.ts';

export interface PartSidecar {
  url: string;
  etag: string | null;
  commit: string | null;
  sizeBytes: number | null;
  sha256: string | null;
}

export interface DownloadFileInput {
  hub: HubOptions;
  repo: string;
  revision: string;
  path: string;
  meta: FileMetadata;
  /** From the catalog; wins over the Hub's LFS hash. */
  expectedSha256: string | null;
  partPath: string;
  signal: AbortSignal;
  retry: RetryOptions;
  stallTimeoutMs: number;
  /** Bytes received since the last call (negative when a part had to be thrown away). */
  onBytes: (delta: number) => void;
}

export interface DownloadedFile {
  sha256: string;
  sizeBytes: number;
  /** Bytes already on disk from an earlier run that were not fetched again. */
  resumedBytes: number;
  /** Bytes that came over the network in this run. */
  fetchedBytes: number;
}

export const sidecarPathOf = (partPath: string) => `${partPath}.json`;

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readSidecar(partPath: string): Promise<PartSidecar | null> {
  try {
    return JSON.parse(await readFile(sidecarPathOf(partPath), 'utf8')) as PartSidecar;
  } catch {
    return null;
  }
}

/** Hashes the bytes already on disk so that a resumed file still gets one sha256 over all of it. */
async function hashPrefix(path: string, length: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (length === 0) return hash;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 })) hash.update(chunk as Buffer);
  return hash;
}

export function backoffMs(retry: RetryOptions, attempt: number): number {
  const base = Math.min(30_000, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(base * (0.5 + Math.random() * 0.5));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** GET with redirects followed; the Range header goes along, the token only to the Hub. */
async function getFollowing(hub: HubOptions, url: string, headers: Record<string, string>, signal: AbortSignal, timeoutMs: number) {
  let current = url;
  for (let hop = 0; hop <= 5; hop++) {
    const res = await request(current, { headers: { ...headers, ...authHeaders(hub, current) }, signal, timeoutMs });
    const status = res.statusCode ?? 0;
    const location = headerValue(res, 'location');
    if (status >= 300 && status < 400 && location) {
      res.resume();
      current = new URL(location, current).toString();
      continue;
    }
    return res;
  }
  throw new PullError('network', `${url}: too many redirects`);
}

function parseContentRangeStart(res: http.IncomingMessage): number | null {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(headerValue(res, 'content-range') ?? '');
  return m ? Number(m[1]) : null;
}

const isAbort = (signal: AbortSignal) => signal.aborted;

/** Bytes waiting for the disk before the socket is paused (backpressure). */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * Appends a response body to the part file. Chunks are taken in flowing mode and written in
 * order (batched with writev while the disk is busy), so every byte that arrived before a dropped
 * connection reaches the disk: an async iterator would discard the buffered ones on error, and
 * the resume would fetch them again. Resolves with the bytes written; rejects after writing them
 * if the body ended early.
 */
function appendBody(res: http.IncomingMessage, partPath: string, onWritten: (buf: Buffer) => void): Promise<number> {
  return open(partPath, 'a').then(
    (handle) =>
      new Promise<number>((resolve, reject) => {
        let written = 0;
        let queuedBytes = 0;
        let pending: Buffer[] = [];
        let writing: Promise<void> | null = null;
        let writeError: unknown = null;
        let ended: { error: unknown } | null = null;

        const drain = async () => {
          while (pending.length > 0 && writeError === null) {
            const batch = pending;
            pending = [];
            try {
              await handle.writev(batch);
            } catch (error) {
              writeError = error;
              res.destroy();
              break;
            }
            for (const buf of batch) {
              written += buf.length;
              queuedBytes -= buf.length;
              onWritten(buf);
            }
            if (queuedBytes <= MAX_QUEUED_BYTES / 2 && res.isPaused() && !ended) res.resume();
          }
          writing = null;
          if (ended) finish();
        };
        const finish = () => {
          if (writing) return;
          void handle.close().then(
            () => (writeError ?? ended?.error ? reject(writeError ?? ended!.error) : resolve(written)),
            reject,
          );
        };
        const end = (error: unknown) => {
          if (ended) return;
          ended = { error };
          finish();
        };
        res.on('data', (buf: Buffer) => {
          pending.push(buf);
          queuedBytes += buf.length;
          if (queuedBytes > MAX_QUEUED_BYTES) res.pause();
          writing ??= drain();
        });
        res.on('end', () => end(null));
        res.on('error', (error) => end(error));
        res.on('close', () => end(res.complete ? null : new Error('connection closed mid-body')));
      }),
  );
}

export async function downloadFile(input: DownloadFileInput): Promise<DownloadedFile> {
  const { hub, repo, revision, path, meta, partPath, signal } = input;
  const url = resolveUrl(hub, repo, revision, path);
  const what = `${repo}@${revision}/${path}`;
  const expectedSha = input.expectedSha256 ?? meta.sha256;
  const expectedSize = meta.sizeBytes;

  // A part belongs to one remote version of the file; anything else starts over.
  const previous = await readSidecar(partPath);
  const sameFile =
    previous !== null &&
    previous.url === url &&
    previous.etag === meta.etag &&
    (meta.etag !== null || (previous.commit !== null && previous.commit === meta.commit));
  if (!sameFile) await rm(partPath, { force: true });
  const sidecar: PartSidecar = { url, etag: meta.etag, commit: meta.commit, sizeBytes: expectedSize, sha256: expectedSha };
  await writeFile(sidecarPathOf(partPath), JSON.stringify(sidecar));

  let offset = await sizeOf(partPath);
  if (expectedSize !== null && offset > expectedSize) {
    await rm(partPath, { force: true });
    offset = 0;
  }
  const resumedBytes = offset;
  input.onBytes(offset);
  let hash = await hashPrefix(partPath, offset);
  let fetchedBytes = 0;
  let failures = 0;

  const restartFromZero = async () => {
    input.onBytes(-offset);
    await rm(partPath, { force: true });
    offset = 0;
    hash = createHash('sha256');
  };

  while (expectedSize === null || offset < expectedSize) {
    if (isAbort(signal)) throw signal.reason;
    let progressed = false;
    try {
      const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
      const res = await getFollowing(hub, url, headers, signal, input.stallTimeoutMs);
      const status = res.statusCode ?? 0;
      if (status === 416 && expectedSize !== null && offset === expectedSize) {
        res.resume();
        break;
      }
      if (status >= 400) {
        res.resume();
        const fatal = statusError(status, what, hub, res);
        if (fatal) throw fatal;
        throw new PullError('network', `${what}: HTTP ${status}`);
      }
      if (status === 206) {
        if (parseContentRangeStart(res) !== offset) {
          res.resume();
          await restartFromZero();
          throw new PullError('network', `${what}: the server answered a different byte range`);
        }
      } else if (offset > 0) {
        // 200 to a Range request: the server sends the whole file; keep nothing old.
        await restartFromZero();
      }
      const contentLength = Number(headerValue(res, 'content-length') ?? NaN);
      const received = await appendBody(res, partPath, (buf) => {
        hash.update(buf);
        offset += buf.length;
        fetchedBytes += buf.length;
        progressed = true;
        input.onBytes(buf.length);
      });
      if (Number.isFinite(contentLength) && received < contentLength) {
        throw new PullError('network', `${what}: connection closed after ${received} of ${contentLength} bytes`);
      }
      if (expectedSize === null) break;
      if (offset < expectedSize) throw new PullError('network', `${what}: got ${offset} of ${expectedSize} bytes`);
    } catch (error) {
      if (isAbort(signal)) throw signal.reason;
      if (error instanceof PullError && error.code !== 'network') throw error;
      // `for await` over a destroyed socket ends in 'aborted'/ECONNRESET: both are retryable.
      if (progressed) failures = 0;
      failures += 1;
      if (failures > input.retry.attempts) {
        const message = error instanceof Error ? error.message : String(error);
        throw new PullError('network', `${what}: gave up after ${input.retry.attempts} retries (${message}); the partial file is kept, pull again to resume`);
      }
      await sleep(backoffMs(input.retry, failures), signal);
      // The running hash covers exactly the bytes written; re-read only if the disk disagrees.
      const onDisk = await sizeOf(partPath);
      if (onDisk !== offset) {
        offset = onDisk;
        hash = await hashPrefix(partPath, offset);
      }
    }
  }

  const sha256 = hash.digest('hex');
  const sizeBytes = await sizeOf(partPath);
  if (expectedSize !== null && sizeBytes !== expectedSize) {
    await rm(partPath, { force: true });
    throw new PullError('checksum', `${what}: size is ${sizeBytes} bytes, expected ${expectedSize}; the file was deleted, pull again`);
  }
  if (expectedSha !== null && sha256 !== expectedSha) {
    await rm(partPath, { force: true });
    await rm(sidecarPathOf(partPath), { force: true });
    throw new PullError(
      'checksum',
      `${what}: sha256 ${sha256} does not match the expected ${expectedSha}; the download was corrupted or the file changed on the Hub. The bad file was deleted; pull again`,
    );
  }
  return { sha256, sizeBytes, resumedBytes, fetchedBytes };
}
