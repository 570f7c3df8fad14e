import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServeArgs, UsageError } from '../cli/serve-args.ts';

const env = { HOME: '/home/u' } as NodeJS.ProcessEnv;

test('serve --api-auth: A1111 Basic credentials; enough on its own to listen beyond loopback', () => {
  assert.equal(parseServeArgs(['--data', '/d'], env, '/repo').apiAuth, null);
  const o = parseServeArgs(['--data', '/d', '--host', '0.0.0.0', '--api-auth', 'bot:s3cret'], env, '/repo');
  assert.equal(o.apiAuth, 'bot:s3cret');
  assert.equal(o.token, null);
  assert.throws(() => parseServeArgs(['--data', '/d', '--api-auth', 'bot'], env, '/repo'), (e: unknown) => e instanceof UsageError && /user:password pairs/.test(e.message));
  assert.throws(() => parseServeArgs(['--data', '/d', '--host', '0.0.0.0'], env, '/repo'), /--api-auth user:pass/);
});

test('serve --cors-allow-origins: a comma list, trailing slashes dropped', () => {
  assert.deepEqual(parseServeArgs(['--data', '/d'], env, '/repo').corsOrigins, []);
  const o = parseServeArgs(['--data', '/d', '--cors-allow-origins', 'https://a.example/, http://localhost:3000'], env, '/repo');
  assert.deepEqual(o.corsOrigins, ['https://a.example', 'http://localhost:3000']);
});
