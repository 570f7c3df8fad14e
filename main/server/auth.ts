// Who may talk to the server. On loopback (the default) anyone on this machine may, but only
// through a loopback Host header (a DNS-rebinding page cannot). With --host the server is on the
// network and every request must carry the token: `Authorization: Bearer T` (scripts), Basic auth
// with T as the password (A1111 clients), or the `yoso_token` cookie that `/?token=T` sets once
// (browsers: EventSource and <img> cannot send headers).
import type { IncomingMessage } from 'node:http';
import { sameSecret } from './http-util.ts';

export const TOKEN_COOKIE = 'yoso_token';

export interface AccessPolicy {
  /** null = loopback only, no token. */
  token: string | null;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

function hostName(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  return hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0]!;
}

export function cookieValue(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

/** The token a request presents, wherever it put it. */
export function presentedToken(req: IncomingMessage, url: URL): string | null {
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Bearer ')) return header.slice(7).trim();
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return url.searchParams.get('token') ?? cookieValue(req, TOKEN_COOKIE);
}

export type AccessDecision = { allowed: true } | { allowed: false; status: number; message: string };

export function checkAccess(policy: AccessPolicy, req: IncomingMessage, url: URL): AccessDecision {
  if (policy.token === null) {
    // Both ends must be loopback: the peer (a server bound beyond loopback for another route set,
    // e.g. the A1111 API under --api-auth, must not open /api to the network) and the Host header.
    if (!isLoopbackAddress(req.socket.remoteAddress)) {
      return { allowed: false, status: 403, message: 'this part of the server answers only to this machine: start serve with --token to open it to the network' };
    }
    if (!LOOPBACK_HOSTS.has(hostName(req.headers.host))) {
      return { allowed: false, status: 421, message: 'this server answers only to 127.0.0.1 or localhost' };
    }
    return { allowed: true };
  }
  const presented = presentedToken(req, url);
  if (presented === null || !sameSecret(presented, policy.token)) {
    return { allowed: false, status: 401, message: 'missing or wrong token: open /?token=<token> once, or send Authorization: Bearer <token>' };
  }
  return { allowed: true };
}

/**
 * Requests that change something must come from our own page (or a script without an Origin):
 * a page on another site cannot post JSON to us without a CORS preflight we never answer, and
 * its Origin differs from our Host.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
