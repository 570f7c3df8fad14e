// A local stand-in for the Hugging Face Hub on 127.0.0.1, behaving like the real one where the
// downloader depends on it: resolve URLs with X-Repo-Commit / ETag / X-Linked-Etag /
// X-Linked-Size, a 302 from the Hub to a separate storage server for LFS files, Range and 206,
// the tree API, 404 with X-Error-Code, 401 for a gated repo without a token. Faults can be
// switched on per file: a connection cut after N bytes, a body that does not match its sha256,
// a 500, a storage server that ignores Range, slow sending (so a test can pause mid-file).
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  content: Buffer;
  /** LFS files are redirected to storage and carry X-Linked-Etag (their sha256). */
  lfs: boolean;
}

export interface FakeRepo {
  files: Map<string, FakeFile>;
  commit: string;
  /** Token required (Bearer) to resolve anything in this repo. */
  gatedToken?: string;
}

export interface Faults {
  /** Close the socket after this many body bytes, for the next `times` storage requests. */
  cutAfter?: { bytes: number; times: number };
  /** Serve different bytes of the same length. */
  corrupt?: boolean;
  /** Answer 500 for the next n storage requests. */
  error500?: number;
  /** Answer range requests with 200 and the whole body. */
  ignoreRange?: boolean;
  /** Send the body in 16 KiB chunks with this delay between them. */
  slowMs?: number;
}

export interface StorageRequest {
  path: string;
  range: string | null;
  status: number;
  bytesSent: number;
  authorization: string | null;
}

const memo = new WeakMap<Buffer, { sha256?: string; sha1?: string }>();
function memoized(b: Buffer, kind: 'sha256' | 'sha1', compute: () => string): string {
  const entry = memo.get(b) ?? {};
  memo.set(b, entry);
  return (entry[kind] ??= compute());
}
/** Hashes are remembered per buffer: the server must not spend seconds per request on them. */
export const sha256 = (b: Buffer) => memoized(b, 'sha256', () => createHash('sha256').update(b).digest('hex'));
const gitSha1 = (b: Buffer) => memoized(b, 'sha1', () => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex'));

export class FakeHub {
  readonly repos = new Map<string, FakeRepo>();
  readonly faults = new Map<string, Faults>();
  readonly storageLog: StorageRequest[] = [];
  readonly hubLog: Array<{ method: string; url: string; authorization: string | null }> = [];
  /** Most storage responses that were sending at the same time. */
  maxInFlight = 0;
  private inFlight = 0;
  private hub!: http.Server;
  private storage!: http.Server;
  endpoint = '';
  storageOrigin = '';

  addRepo(name: string, files: Record<string, Buffer>, options: { lfsMinBytes?: number; gatedToken?: string } = {}): FakeRepo {
    const repo: FakeRepo = {
      files: new Map(Object.entries(files).map(([p, content]) => [p, { content, lfs: content.length >= (options.lfsMinBytes ?? 1024) }])),
      commit: createHash('sha1').update(name).digest('hex'),
      gatedToken: options.gatedToken,
    };
    this.repos.set(name, repo);
    return repo;
  }

  /** Bytes the storage server sent for one file across all requests. */
  bytesSentFor(path: string): number {
    return this.storageLog.filter((r) => r.path === path).reduce((s, r) => s + r.bytesSent, 0);
  }

  async start(): Promise<void> {
    this.storage = http.createServer((req, res) => this.serveStorage(req, res));
    this.hub = http.createServer((req, res) => this.serveHub(req, res));
    await new Promise<void>((r) => this.storage.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => this.hub.listen(0, '127.0.0.1', r));
    this.endpoint = `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
    this.storageOrigin = `http://127.0.0.1:${(this.storage.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.hub.closeAllConnections();
    this.storage.closeAllConnections();
    await new Promise((r) => this.hub.close(r));
    await new Promise((r) => this.storage.close(r));
  }

  private findFile(repoName: string, path: string) {
    const repo = this.repos.get(repoName);
    return { repo, file: repo?.files.get(path) };
  }

  private serveHub(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.endpoint);
    this.hubLog.push({ method: req.method ?? 'GET', url: url.pathname, authorization: req.headers.authorization ?? null });
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoName = tree?.[1] ?? resolve?.[1];
    const repo = repoName ? this.repos.get(repoName) : undefined;
    if (!repo) {
      res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
      return;
    }
    if (repo.gatedToken && req.headers.authorization !== `Bearer ${repo.gatedToken}`) {
      res.writeHead(401, { 'x-error-code': 'GatedRepo' }).end('Access to this repo is restricted');
      return;
    }
    if (tree) {
      const entries = [...repo.files].map(([path, f]) => ({
        type: 'file',
        path,
        size: f.content.length,
        oid: gitSha1(f.content),
        ...(f.lfs ? { lfs: { oid: sha256(f.content), size: f.content.length, pointerSize: 130 } } : {}),
      }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entries));
      return;
    }
    const path = decodeURIComponent(resolve![3]!);
    const file = repo.files.get(path);
    if (!file) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': repo.commit }).end('Entry not found');
      return;
    }
    if (file.lfs) {
      const sha = sha256(file.content);
      res
        .writeHead(302, {
          location: `${this.storageOrigin}/${repoName}/${path}?sig=abc`,
          'x-repo-commit': repo.commit,
          'x-linked-etag': `"${sha}"`,
          'x-linked-size': String(file.content.length),
          etag: `"${gitSha1(file.content)}"`,
        })
        .end();
      return;
    }
    res.writeHead(200, {
      'content-length': String(file.content.length),
      etag: `"${gitSha1(file.content)}"`,
      'x-repo-commit': repo.commit,
      'accept-ranges': 'bytes',
    });
    res.end(req.method === 'HEAD' ? undefined : file.content);
  }

  private serveStorage(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.storageOrigin);
    const m = /^\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
    const { file } = m ? this.findFile(m[1]!, decodeURIComponent(m[2]!)) : { file: undefined };
    const path = m ? decodeURIComponent(m[2]!) : url.pathname;
    const log: StorageRequest = { path, range: req.headers.range ?? null, status: 0, bytesSent: 0, authorization: req.headers.authorization ?? null };
    this.storageLog.push(log);
    if (!file) {
      log.status = 404;
      res.writeHead(404).end();
      return;
    }
    const faults = this.faults.get(path) ?? {};
    if (faults.error500 && faults.error500 > 0) {
      faults.error500 -= 1;
      log.status = 500;
      res.writeHead(500).end('internal error');
      return;
    }
    let body = file.content;
    if (faults.corrupt) {
      body = Buffer.from(body);
      body[body.length >> 1] = body[body.length >> 1]! ^ 0xff;
    }
    const total = body.length;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = total - 1;
    const headers: Record<string, string> = { etag: `"${sha256(file.content)}"`, 'accept-ranges': 'bytes' };
    if (range && !faults.ignoreRange) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), total - 1) : total - 1;
      if (start >= total) {
        log.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${total}` }).end();
        return;
      }
      log.status = 206;
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${total}`, 'content-length': String(end - start + 1) });
    } else {
      log.status = 200;
      res.writeHead(200, { ...headers, 'content-length': String(total) });
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const slice = body.subarray(start, end + 1);
    let limit = slice.length;
    if (faults.cutAfter && faults.cutAfter.times > 0) {
      faults.cutAfter.times -= 1;
      limit = Math.min(limit, faults.cutAfter.bytes);
    }
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    void this.send(res, slice, limit, faults.slowMs ?? 0, log).finally(() => (this.inFlight -= 1));
  }

  private async send(res: http.ServerResponse, slice: Buffer, limit: number, slowMs: number, log: StorageRequest): Promise<void> {
    // Small pieces when slowed (so a test can pause mid-file), large ones otherwise.
    const chunk = slowMs > 0 ? 16 * 1024 : 1024 * 1024;
    for (let at = 0; at < limit; at += chunk) {
      if (res.destroyed) return;
      const piece = slice.subarray(at, Math.min(limit, at + chunk));
      // Wait until the piece is handed to the OS, so bytesSent is what the client can receive.
      const ok = await new Promise<boolean>((r) => res.write(piece, (err) => r(!err)));
      if (!ok) return;
      log.bytesSent += piece.length;
      if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs));
    }
    if (limit < slice.length) {
      // A dropped connection: the client has the headers (with the full length) and part of the body.
      res.socket?.end();
      return;
    }
    res.end();
  }
}
