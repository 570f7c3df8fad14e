import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TINY_SD15 } from '../../native-models/test/fixtures.ts';
import { insertAfterHeader } from '../png-metadata/chunks.ts';
import { textChunk } from '../png-metadata/text-chunks.ts';
import { A1111HttpError } from './errors.ts';
import { readPngInfo } from './png-info.ts';

const plainPng = () => new Uint8Array(readFileSync(join(TINY_SD15(), 'cases', 'cat_g1.5_s1_seed318', 'image.png')));

const A1111_TEXT =
  'a photo of a cat, <lora:style:0.8>\nNegative prompt: blurry, ugly\n' +
  'Steps: 2, Sampler: LCM, CFG scale: 1.5, Seed: 318, Size: 64x64, Model hash: 0123456789, Model: tiny, ' +
  'Lora hashes: "style: abcdef123456", Version: v1.10.1';

test('reads info, other text chunks, and the parsed dict as A1111 does', () => {
  const png = insertAfterHeader(plainPng(), [textChunk('parameters', A1111_TEXT), textChunk('Software', 'test')]);
  const info = readPngInfo(png);
  assert.equal(info.info, A1111_TEXT);
  assert.deepEqual(info.items, { Software: 'test' });
  assert.deepEqual(info.parameters, {
    Prompt: 'a photo of a cat, <lora:style:0.8>',
    'Negative prompt': 'blurry, ugly',
    Steps: '2',
    Sampler: 'LCM',
    'CFG scale': '1.5',
    Seed: '318',
    'Size-1': '64',
    'Size-2': '64',
    'Model hash': '0123456789',
    Model: 'tiny',
    'Lora hashes': 'style: abcdef123456',
    Version: 'v1.10.1',
  });
});

test('a PNG without parameters gives empty info, as A1111 does; a non-PNG is "Invalid encoded image"', () => {
  assert.deepEqual(readPngInfo(plainPng()), { info: '', items: {}, parameters: {} });
  assert.throws(
    () => readPngInfo(new TextEncoder().encode('not a png')),
    (e: unknown) => e instanceof A1111HttpError && e.status === 500 && /Invalid encoded image/.test(e.detail),
  );
});
