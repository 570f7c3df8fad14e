// The checkpoint reader (header only, multi-GB files) refuses malformed headers with a message
// naming the file, the tensor and the problem, through the parser it shares with the LoRA reader.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CheckpointFileError, readSafetensorsHeader } from './safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'yoso-st-header-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A file with this JSON header and `dataBytes` bytes of data after it. */
function fileWith(name: string, header: unknown, dataBytes: number): string {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, `${name}.safetensors`);
  writeFileSync(path, Buffer.concat([length, json, Buffer.alloc(dataBytes)]));
  return path;
}

const refused = (path: string, message: RegExp) =>
  assert.throws(
    () => readSafetensorsHeader(path),
    (e: unknown) => e instanceof CheckpointFileError && message.test(e.message) && e.message.includes(path) && /download it again$/.test(e.message),
  );

test('a good header: offsets are absolute in the file, metadata kept', () => {
  const path = fileWith('good', { __metadata__: { format: 'pt' }, a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8);
  const file = readSafetensorsHeader(path);
  assert.deepEqual(file.metadata, { format: 'pt' });
  const a = file.tensors.get('a')!;
  const b = file.tensors.get('b')!;
  assert.equal(b.offset - a.offset, 4);
  assert.deepEqual([a.length, b.length, b.shape], [4, 4, [1]]);
});

test('malformed headers each get a clear message', () => {
  const w = (entry: Record<string, unknown>) => ({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...entry } });
  refused(fileWith('no-shape', { w: { dtype: 'F32', data_offsets: [0, 8] } }, 8), /tensor w has an invalid shape undefined/);
  refused(fileWith('negative', w({ data_offsets: [-8, 0] }), 8), /tensor w has invalid data_offsets \[-8,0\]/);
  refused(fileWith('unknown-dtype', w({ dtype: 'F8_E4M3' }), 8), /tensor w has unknown dtype F8_E4M3/);
  refused(fileWith('wrong-span', w({ data_offsets: [0, 12] }), 12), /data_offsets span 12 bytes, its shape needs 8/);
  refused(
    fileWith('overlap', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12),
    /tensors a \[0, 8\) and b \[4, 12\) overlap/,
  );
  refused(fileWith('past-end', w({ data_offsets: [8, 16] }), 8), /is truncated: its header describes \d+ bytes but the file has only \d+ \(\d+\.\d%\)/);
  refused(fileWith('not-object', [1, 2], 0), /header is not a JSON object/);
});
