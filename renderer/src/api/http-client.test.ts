// The HTTP transport's own logic: URLs, error shapes, contract checks on answers and events.
// (The real server is exercised by the e2e specs; here fetch and EventSource are stand-ins.)
import { describe, expect, it } from 'vitest';
import { ApiClientError } from './errors.ts';
import { HttpClient } from './http-client.ts';
import { ElectronClient } from './electron-client.ts';
import { pickClient } from './pick-client.ts';

function fetchReturning(status: number, body: unknown, seen: Array<{ url: string; init: RequestInit }> = []) {
  return (async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
}

class FakeEventSource extends EventTarget {
  static last: FakeEventSource | null = null;
  constructor(readonly url: string) {
    super();
    FakeEventSource.last = this;
  }
  close() {}
  push(name: string, data: string) {
    this.dispatchEvent(new MessageEvent(name, { data }));
  }
}

describe('HttpClient', () => {
  it('posts the input as JSON to /api/<command> and returns the checked answer', async () => {
    const seen: Array<{ url: string; init: RequestInit }> = [];
    const client = new HttpClient({ baseUrl: 'http://127.0.0.1:7860/', fetch: fetchReturning(200, { jobIds: ['j1'] }, seen) });
    expect(await client.call('jobs.cancelAll', {}).catch((e) => e)).toBeInstanceOf(ApiClientError);
    const ok = new HttpClient({ fetch: fetchReturning(200, { ok: true }, seen) });
    await expect(ok.call('jobs.cancel', { jobId: 'j1' })).resolves.toEqual({ ok: true });
    expect(seen.at(-1)).toMatchObject({ url: '/api/jobs.cancel', init: { method: 'POST', body: '{"jobId":"j1"}' } });
  });

  it("keeps the server's error code and message", async () => {
    const client = new HttpClient({ fetch: fetchReturning(404, { code: 'not_found', message: 'no image h1' }) });
    const error = await client.call('history.get', { id: 'h1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiClientError);
    expect(error).toMatchObject({ code: 'not_found', message: 'no image h1' });
  });

  it('says how to fix an unreachable server', async () => {
    const client = new HttpClient({ fetch: (async () => { throw new TypeError('Failed to fetch'); }) as unknown as typeof fetch });
    await expect(client.call('app.info', {})).rejects.toMatchObject({ code: 'unavailable', message: /npm run serve/ });
  });

  it('delivers named SSE events that match the contract and drops the rest', () => {
    const client = new HttpClient({ fetch: fetchReturning(200, {}), EventSource: FakeEventSource as unknown as typeof EventSource });
    const got: unknown[] = [];
    const stop = client.on('history.changed', (p) => got.push(p));
    const source = FakeEventSource.last!;
    expect(source.url).toBe('/api/events');
    source.push('history.changed', '{"ids":["a"]}');
    source.push('history.changed', '{"ids":"a"}');
    source.push('history.changed', 'not json');
    stop();
    source.push('history.changed', '{"ids":["b"]}');
    expect(got).toEqual([{ ids: ['a'] }]);
  });

  it('turns data-folder paths into encoded file URLs', () => {
    const client = new HttpClient({ fetch: fetchReturning(200, {}) });
    expect(client.fileUrl('images/2026-01-01/a b#1.png')).toBe('/files/images/2026-01-01/a%20b%231.png');
    expect(client.fileUrl('thumbs\\x.webp')).toBe('/files/thumbs/x.webp');
  });
});

describe('pickClient', () => {
  it('uses the preload bridge when there is one, HTTP otherwise', () => {
    const bridge = { call: async () => ({ ok: true, value: null }), on: () => () => {}, showItemInFolder: async () => ({ ok: true, value: null }) };
    expect(pickClient({ yoso: bridge })).toBeInstanceOf(ElectronClient);
    expect(pickClient({})).toBeInstanceOf(HttpClient);
    expect(pickClient({ yoso: bridge }).fileUrl('images/a.png')).toBe('yoso-file://data/images/a.png');
  });
});

describe('ElectronClient', () => {
  it('unwraps bridge results: values are checked, errors keep their code', async () => {
    const answers = [
      { ok: true as const, value: { ok: true } },
      { ok: false as const, error: { code: 'invalid_input' as const, message: 'jobId must not be empty' } },
    ];
    const client = new ElectronClient({ call: async () => answers.shift()!, on: () => () => {}, showItemInFolder: async () => ({ ok: true, value: null }) });
    await expect(client.call('jobs.cancel', { jobId: 'j' })).resolves.toEqual({ ok: true });
    await expect(client.call('jobs.cancel', { jobId: 'j' })).rejects.toMatchObject({ code: 'invalid_input', message: 'jobId must not be empty' });
  });
});
