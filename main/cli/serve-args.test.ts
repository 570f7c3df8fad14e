import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServeArgs, UsageError } from './serve-args.ts';

const env = { HOME: '/home/u' } as NodeJS.ProcessEnv;

test('defaults: loopback, port 7860, models inside the data folder, no token', () => {
  const o = parseServeArgs(['--data', '/d'], env, '/repo');
  assert.deepEqual(o, { dataDir: '/d', modelsDir: '/d/models', port: 7860, host: '127.0.0.1', token: null, rendererDir: '/repo/renderer/dist', apiAuth: null, corsOrigins: [] });
});

test('--host beyond loopback refuses to start without a token, and short tokens', () => {
  assert.throws(() => parseServeArgs(['--data', '/d', '--host', '0.0.0.0'], env, '/repo'), /give --token/);
  assert.throws(() => parseServeArgs(['--data', '/d', '--host', '0.0.0.0', '--token', 'short'], env, '/repo'), /at least 16/);
  const o = parseServeArgs(['--data', '/d', '--host', '0.0.0.0', '--token', 'x'.repeat(20), '--port', '0', '--models', '/m'], env, '/repo');
  assert.equal(o.host, '0.0.0.0');
  assert.equal(o.modelsDir, '/m');
  assert.equal(o.port, 0);
});

test('bad input names the problem', () => {
  assert.throws(() => parseServeArgs(['--data', '/d', '--port', 'eighty'], env, '/repo'), UsageError);
  assert.throws(() => parseServeArgs(['--dta', '/d'], env, '/repo'), /Unknown option '--dta'/);
  assert.equal(parseServeArgs([], { ...env, YOSO_STUDIO_DATA: '/e' }, '/repo').dataDir, '/e');
});

test('YOSO_MODELS_DIR is the models folder when --models is not given, as for the app and the other CLIs', () => {
  const withEnv = { ...env, YOSO_MODELS_DIR: '/shared/models' };
  assert.equal(parseServeArgs(['--data', '/d'], withEnv, '/repo').modelsDir, '/shared/models');
  assert.equal(parseServeArgs(['--data', '/d', '--models', '/m'], withEnv, '/repo').modelsDir, '/m');
});
