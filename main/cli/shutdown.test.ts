import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runShutdown } from './shutdown.ts';

test('a failing step is reported in one line and the later steps still run', async () => {
  const ran: string[] = [];
  const lines: string[] = [];
  const code = await runShutdown(
    [
      { name: 'the HTTP server', run: async () => void ran.push('server') },
      { name: 'the studio', run: async () => (ran.push('studio'), Promise.reject(new Error('database is locked'))) },
      { name: 'the log', run: async () => void ran.push('log') },
    ],
    { log: (line) => lines.push(line) },
  );
  assert.equal(code, 1);
  assert.deepEqual(ran, ['server', 'studio', 'log']);
  assert.deepEqual(lines, ['shutdown: closing the studio failed: database is locked']);
});

test('a step that never ends does not hold the process past the deadline', async () => {
  const lines: string[] = [];
  const code = await runShutdown(
    [
      { name: 'the studio', run: () => new Promise<void>(() => {}) },
      { name: 'never reached', run: async () => assert.fail('ran after the deadline') },
    ],
    { deadlineMs: 20, log: (line) => lines.push(line) },
  );
  assert.equal(code, 1);
  assert.match(lines[0]!, /closing the studio took longer than 20 ms/);
});

test('all steps closed: exit code 0, nothing printed', async () => {
  const lines: string[] = [];
  assert.equal(await runShutdown([{ name: 'a', run: async () => {} }], { log: (line) => lines.push(line) }), 0);
  assert.deepEqual(lines, []);
});
