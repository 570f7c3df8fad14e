import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { tuningOptions } from './session.ts';

test('session tuning maps to onnxruntime options and config entries; unset keeps the defaults', () => {
  assert.deepEqual(tuningOptions(undefined), {});
  assert.deepEqual(tuningOptions({}), {});
  assert.deepEqual(tuningOptions({ cpuMemArena: false, memPattern: false, prepacking: false, configEntries: { 'session.intra_op.allow_spinning': '0' } }), {
    enableCpuMemArena: false,
    enableMemPattern: false,
    extra: { 'session.disable_prepacking': '1', 'session.intra_op.allow_spinning': '0' },
  });
  assert.deepEqual(tuningOptions({ prepacking: true }), {});
});
