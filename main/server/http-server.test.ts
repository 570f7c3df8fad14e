// The HTTP transport against a real studio on 127.0.0.1: commands, errors, SSE, files, static
// files with CSP, loopback Host check and token mode.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError, Settings } from '../contract/api.ts';
import { startTestStudio, type TestStudio } from '../test/studio-fixture.ts';

/** Raw request (fetch would normalise paths and forbid the Host header). */
function raw(url: URL, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const post = (url: URL, command: string, input: unknown) =>
  fetch(new URL(`/api/${command}`, url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(input) });

describe('HTTP transport on loopback', () => {
  let t: TestStudio;
  let url: URL;
  before(async () => {
    t = await startTestStudio({ http: true });
    url = t.url!;
    mkdirSync(join(t.root, 'renderer', 'assets'), { recursive: true });
    writeFileSync(join(t.root, 'renderer', 'index.html'), '<!doctype html><title>studio</title>');
    writeFileSync(join(t.root, 'renderer', 'assets', 'app-1234.js'), 'console.log(1)');
  });
  after(() => t.close());

  test('a command answers its output; settings.set persists and validates', async () => {
    const got = Settings.parse(await (await post(url, 'settings.get', {})).json());
    assert.equal(got.provider, 'auto');
    const set = await post(url, 'settings.set', { provider: 'cpu' });
    assert.equal(set.status, 200);
    assert.equal(Settings.parse(await set.json()).provider, 'cpu');
    const bad = await post(url, 'settings.set', { provider: 'tpu' });
    assert.equal(bad.status, 400);
    const error = ApiError.parse(await bad.json());
    assert.equal(error.code, 'invalid_input');
    assert.equal(error.issues?.[0]?.path, 'provider');
  });

  test('unknown commands, wrong methods, non-JSON bodies and unknown jobs get ApiErrors', async () => {
    const unknown = await post(url, 'nope.nothing', {});
    assert.equal(unknown.status, 404);
    assert.equal(ApiError.parse(await unknown.json()).code, 'not_found');
    assert.equal((await fetch(new URL('/api/jobs.list', url))).status, 405);
    const form = await fetch(new URL('/api/jobs.list', url), { method: 'POST', body: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 400);
    const missing = await post(url, 'jobs.cancel', { jobId: 'no-such-job' });
    assert.equal(missing.status, 404);
    assert.match(ApiError.parse(await missing.json()).message, /no-such-job/);
    const crossSite = await raw(url, '/api/jobs.list', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'https://evil.example' },
      body: '{}',
    });
    assert.equal(crossSite.status, 403);
  });

  test('a Host header other than loopback is refused (DNS rebinding)', async () => {
    const res = await raw(url, '/api/events', { headers: { Host: `evil.example:${url.port}` } });
    assert.equal(res.status, 421);
  });

  test('SSE delivers contract events as named events', async () => {
    const controller = new AbortController();
    const res = await fetch(new URL('/api/events', url), { signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    t.studio.events.emit('history.changed', { ids: ['abc'] });
    let text = '';
    while (!text.includes('abc')) text += new TextDecoder().decode((await reader.read()).value);
    assert.match(text, /event: history\.changed\ndata: \{"ids":\["abc"\]\}\n\n/);
    controller.abort();
  });

  test('/files serves images inside the data folder and nothing else', async () => {
    mkdirSync(join(t.dataDir, 'images'), { recursive: true });
    writeFileSync(join(t.dataDir, 'images', 'a.png'), 'png-bytes');
    writeFileSync(join(t.root, 'outside.png'), 'secret');
    symlinkSync(join(t.root, 'outside.png'), join(t.dataDir, 'images', 'escape.png'));
    writeFileSync(join(t.dataDir, 'notes.txt'), 'text');

    const ok = await raw(url, '/files/images/a.png');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'image/png');
    assert.equal(ok.body, 'png-bytes');
    assert.equal((await raw(url, '/files/images/..%2F..%2Foutside.png')).status, 400);
    assert.equal((await raw(url, `/files/${encodeURIComponent(join(t.root, 'outside.png'))}`)).status, 400);
    assert.equal((await raw(url, '/files/images/escape.png')).status, 403);
    assert.equal((await raw(url, '/files/notes.txt')).status, 403);
    assert.equal((await raw(url, '/files/images/none.png')).status, 404);
  });

  test('the renderer is served with a strict CSP, and routes fall back to index.html', async () => {
    const page = await raw(url, '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>studio<\/title>/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.match((await raw(url, '/gallery')).body, /<title>studio<\/title>/);
    const asset = await raw(url, '/assets/app-1234.js');
    assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal((await raw(url, '/assets/missing.js')).status, 404);
  });
});

describe('HTTP transport with a token', () => {
  const token = 'a-long-test-token-0123456789';
  let t: TestStudio;
  before(async () => {
    t = await startTestStudio({ http: true, token });
  });
  after(() => t.close());

  test('requests without the token are refused; Bearer, Basic and the cookie from ?token= work', async () => {
    const url = t.url!;
    assert.equal((await post(url, 'jobs.list', {})).status, 401);
    const bearer = await fetch(new URL('/api/jobs.list', url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: '{}',
    });
    assert.equal(bearer.status, 200);
    const basic = await raw(url, '/api/jobs.list', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}` },
      body: '{}',
    });
    assert.equal(basic.status, 200);
    const page = await raw(url, `/?token=${token}`);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    assert.match(cookie, /^yoso_token=/);
    assert.equal((await raw(url, '/api/jobs.list', { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie }, body: '{}' })).status, 200);
    assert.equal((await raw(url, '/api/jobs.list', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer wrong' }, body: '{}' })).status, 401);
  });
});
