// A1111's `--api-auth user:pass[,user2:pass2]`: HTTP Basic on every /sdapi route, compared in
// constant time. Answers as A1111 (FastAPI's HTTPBasic) does: 401 with `WWW-Authenticate: Basic`.
import { sameSecret } from '../server/http-util.ts';
import { A1111HttpError } from './errors.ts';

export type ApiCredentials = ReadonlyMap<string, string>;

/** Parses the flag's value; a malformed pair is an error that names it (and hides the password). */
export function parseApiAuth(value: string): ApiCredentials {
  const credentials = new Map<string, string>();
  for (const pair of value.split(',')) {
    const colon = pair.indexOf(':');
    const user = colon === -1 ? '' : pair.slice(0, colon).trim();
    const password = colon === -1 ? '' : pair.slice(colon + 1);
    if (user === '' || password === '') {
      const shown = colon === -1 ? pair : `${pair.slice(0, colon)}:***`;
      throw new Error(`--api-auth expects user:password pairs separated by commas; "${shown}" is not one`);
    }
    credentials.set(user, password);
  }
  return credentials;
}

/** Throws A1111's 401 unless the Authorization header carries one of the credentials. */
export function checkBasicAuth(credentials: ApiCredentials, authorization: string | undefined): void {
  const challenge = { 'WWW-Authenticate': 'Basic' };
  const match = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) throw new A1111HttpError(401, 'Not authenticated', 'HTTPException', challenge);
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  const password = colon === -1 ? '' : decoded.slice(colon + 1);
  const expected = credentials.get(user);
  if (expected === undefined || !sameSecret(password, expected)) {
    throw new A1111HttpError(401, 'Incorrect username or password', 'HTTPException', challenge);
  }
}
