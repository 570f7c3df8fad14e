// Talks to the Hugging Face Hub (or anything that answers like it, e.g. a mirror set with
// HF_ENDPOINT): resolve URLs, file metadata from a HEAD request, repo file listings.
// Plain node:http/https so redirects, Range and dropped sockets are handled explicitly.
import http from 'node:http';
import https from 'node:https';
import type { HubOptions } from './types.ts';
import { PullError } from './types.ts';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export function resolveHubOptions(partial: Partial<HubOptions> = {}): HubOptions {
  const endpoint = (partial.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const token = partial.token !== undefined ? partial.token : process.env.HF_TOKEN || null;
  return { endpoint, token };
}

export function resolveUrl(hub: HubOptions, repo: string, revision: string, path: string): string {
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  return `${hub.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodedPath}`;
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Idle socket time before the request fails as a network error. */
  timeoutMs?: number;
}

/** One HTTP request, no redirect following; the caller reads (or destroys) the body. */
export function request(url: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.request(target, {
      method: options.method ?? 'GET',
      headers: { 'user-agent': 'yoso-studio', ...options.headers },
      signal: options.signal,
    });
    req.setTimeout(options.timeoutMs ?? 60_000, () => {
      req.destroy(new PullError('network', `no answer from ${target.host} for ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s`));
    });
    req.on('response', resolvePromise);
    req.on('error', reject);
    req.end();
  });
}

/** Sends the token only to the Hub itself, never to the storage host it redirects to. */
export function authHeaders(hub: HubOptions, url: string): Record<string, string> {
  if (!hub.token) return {};
  return new URL(url).origin === new URL(hub.endpoint).origin ? { authorization: `Bearer ${hub.token}` } : {};
}

export function headerValue(res: http.IncomingMessage, name: string): string | null {
  const v = res.headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}

/** Turns a Hub error status into an error a user can act on; null for statuses worth a retry. */
export function statusError(status: number, what: string, hub: HubOptions, res?: http.IncomingMessage): PullError | null {
  const code = res ? headerValue(res, 'x-error-code') : null;
  if (status === 401 || status === 403) {
    return new PullError(
      'unauthorized',
      hub.token
        ? `${what}: the Hub refused HF_TOKEN (HTTP ${status}); accept the model's terms on its Hub page with the account the token belongs to`
        : `${what} is gated or private (HTTP ${status}): accept its terms on the Hub and set HF_TOKEN to a read token`,
    );
  }
  if (status === 404) {
    const detail = code === 'RevisionNotFound' ? 'revision not found' : code === 'RepoNotFound' ? 'repository not found' : 'not found';
    return new PullError('not_found', `${what}: ${detail} (HTTP 404); check the repo, --revision and --file`);
  }
  if (status >= 500 || status === 429 || status === 408) return null;
  return new PullError('invalid', `${what}: unexpected HTTP ${status}`);
}

export interface FileMetadata {
  /** sha256 of the content when the Hub knows it (LFS files), else null. */
  sha256: string | null;
  /** ETag as sent (LFS sha256 or git blob id): a change means the file changed. */
  etag: string | null;
  sizeBytes: number | null;
  commit: string | null;
}

function cleanEtag(raw: string | null): string | null {
  if (!raw) return null;
  return raw.replace(/^W\//, '').replace(/^"|"$/g, '');
}

const MAX_REDIRECTS = 5;

/**
 * HEAD on the resolve URL, like huggingface_hub: relative redirects (renamed repos) are followed,
 * the redirect to the storage host is not, because the LFS metadata sits on the Hub's answer.
 */
export async function fileMetadata(
  hub: HubOptions,
  repo: string,
  revision: string,
  path: string,
  signal?: AbortSignal,
  timeoutMs?: number,
): Promise<FileMetadata> {
  let url = resolveUrl(hub, repo, revision, path);
  const what = `${repo}@${revision}/${path}`;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await request(url, { method: 'HEAD', headers: authHeaders(hub, url), signal, timeoutMs });
    res.resume();
    const status = res.statusCode ?? 0;
    const location = headerValue(res, 'location');
    const linkedEtag = headerValue(res, 'x-linked-etag');
    if (status >= 300 && status < 400 && location) {
      const next = new URL(location, url);
      if (!linkedEtag && next.origin === new URL(url).origin) {
        url = next.toString();
        continue;
      }
    } else if (status >= 400) {
      throw statusError(status, what, hub, res) ?? new PullError('network', `${what}: HTTP ${status} from the Hub`);
    }
    const etag = cleanEtag(linkedEtag ?? headerValue(res, 'etag'));
    const size = headerValue(res, 'x-linked-size') ?? (status < 300 ? headerValue(res, 'content-length') : null);
    return {
      sha256: etag && /^[0-9a-f]{64}$/.test(etag) ? etag : null,
      etag,
      sizeBytes: size !== null && /^\d+$/.test(size) ? Number(size) : null,
      commit: headerValue(res, 'x-repo-commit'),
    };
  }
  throw new PullError('network', `${what}: too many redirects`);
}

export interface RepoFile {
  path: string;
  sizeBytes: number | null;
  sha256: string | null;
}

/** Every file of a repo at a revision (the Hub's tree API, recursive). */
export async function listRepoFiles(hub: HubOptions, repo: string, revision: string, signal?: AbortSignal): Promise<RepoFile[]> {
  const url = `${hub.endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`;
  const res = await request(url, { headers: authHeaders(hub, url), signal });
  const body = await readBody(res);
  const status = res.statusCode ?? 0;
  if (status >= 400) throw statusError(status, `${repo}@${revision}`, hub, res) ?? new PullError('network', `listing ${repo}: HTTP ${status}`);
  const entries = JSON.parse(body) as Array<{ type: string; path: string; size?: number; lfs?: { oid?: string; sha256?: string } }>;
  return entries
    .filter((e) => e.type === 'file')
    .map((e) => ({ path: e.path, sizeBytes: e.lfs ? (e.size ?? null) : (e.size ?? null), sha256: e.lfs?.oid ?? e.lfs?.sha256 ?? null }));
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The files of the standard ONNX pipeline layout (what the app runs), from a repo listing. */
const LAYOUT_FOLDERS = ['scheduler/', 'text_encoder/', 'tokenizer/', 'unet/', 'vae_decoder/'];
export function selectPipelineFiles(files: RepoFile[]): RepoFile[] {
  return files.filter(
    (f) => f.path === 'model_index.json' || (LAYOUT_FOLDERS.some((d) => f.path.startsWith(d)) && f.path.split('/').length === 2),
  );
}
