import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TINY_SD15 } from '../../test/fixtures.ts';
import { referenceCases } from '../../test/reference-cases.ts';
import { ClipTokenizer } from './clip-tokenizer.ts';

const dir = join(TINY_SD15(), 'tokenizer');
const tokenizer = ClipTokenizer.fromFolder(dir);
const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
const ids = (tokens: string[]) =>
  tokens.map((t) => {
    const id = vocab[t];
    assert.ok(id !== undefined, `${t} is in the CLIP vocabulary`);
    return id;
  });

test('ids recorded by transformers for every fixture prompt', () => {
  for (const c of referenceCases()) {
    assert.deepEqual(tokenizer.encode(c.json.parameters.prompt).ids, c.json.token_ids.cond, c.name);
    if (c.json.token_ids.uncond) assert.deepEqual(tokenizer.encode(c.json.parameters.negative_prompt ?? '').ids, c.json.token_ids.uncond);
  }
  assert.deepEqual(tokenizer.tokenize('a photo of a cat'), [320, 1125, 539, 320, 2368]);
});

// Expected tokens follow from CLIPTokenizer's rules: lower-case, the regex
// 's|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+ (digits one by one, punctuation runs
// together), byte-level BPE with "</w>" ending each word.
const table: Array<[string, string[]]> = [
  ["don't", ['don</w>', "'t</w>"]],
  ["It's a DOG's life", ['it</w>', "'s</w>", 'a</w>', 'dog</w>', "'s</w>", 'life</w>']],
  ["we're they've I'm you'll he'd", ['we</w>', "'re</w>", 'they</w>', "'ve</w>", 'i</w>', "'m</w>", 'you</w>', "'ll</w>", 'he</w>', "'d</w>"]],
  ['Hello, World!', ['hello</w>', ',</w>', 'world</w>', '!</w>']],
  ['2024', ['2</w>', '0</w>', '2</w>', '4</w>']],
  ['4k', ['4</w>', 'k</w>']],
  ['(masterpiece)', ['(</w>', 'masterpiece</w>', ')</w>']],
  ['cat🐱', ['cat</w>', 'ðŁĲ±</w>']],
];
for (const [text, tokens] of table) {
  test(`tokenizes ${JSON.stringify(text)}`, () => {
    assert.deepEqual(tokenizer.tokenize(text), ids(tokens));
  });
}

const same: Array<[string, string, string]> = [
  ['whitespace runs, tabs and newlines are one space', 'a  photo\tof\na cat ', 'a photo of a cat'],
  ['case does not matter', 'A PHOTO OF A CAT', 'a photo of a cat'],
  ['text is NFC-normalised (combining accent = precomposed)', 'cafe\u0301', 'café'],
  ['format characters (zero-width space, ZWJ) are removed', 'ca\u200bt 👨\u200d👩', 'cat 👨👩'],
  ['control characters are removed', 'cat\u0007\u0000', 'cat'],
  ['CJK ideographs are split one by one', '東京', '東 京'],
  ['no-break and other Unicode spaces separate words', 'a\u00a0cat\u3000dog', 'a cat dog'],
];
for (const [why, a, b] of same) {
  test(why, () => {
    assert.deepEqual(tokenizer.tokenize(a), tokenizer.tokenize(b));
  });
}

test('accents are kept (strip_accents=False): café is not cafe', () => {
  assert.notDeepEqual(tokenizer.tokenize('café'), tokenizer.tokenize('cafe'));
  assert.ok(tokenizer.tokenize('café').length >= 1);
});

test('literal special tokens in the text map to their ids', () => {
  assert.deepEqual(tokenizer.tokenize('a<|endoftext|>cat'), [320, 49407, 2368]);
});

test('pads with <|endoftext|> to 77 and truncates longer prompts, counting what was dropped', () => {
  const short = tokenizer.encode('');
  assert.deepEqual(short.ids, [49406, ...new Array(76).fill(49407)]);
  assert.equal(short.dropped, 0);
  const words = Array.from({ length: 100 }, (_, i) => (i % 2 ? 'cat' : 'dog'));
  const long = tokenizer.encode(words.join(' '));
  assert.equal(long.ids.length, 77);
  assert.equal(long.tokenCount, 100);
  assert.equal(long.dropped, 25);
  assert.equal(long.ids[0], 49406);
  assert.equal(long.ids[76], 49407);
  assert.deepEqual(long.ids.slice(1, 76), tokenizer.tokenize(words.slice(0, 75).join(' ')));
  const exact = tokenizer.encode(words.slice(0, 75).join(' '));
  assert.equal(exact.dropped, 0);
  assert.equal(exact.ids[76], 49407);
});

test('a broken merges file names the file and the line', () => {
  assert.throws(() => ClipTokenizer.fromFiles(join(dir, 'vocab.json'), join(dir, 'vocab.json')), /merges|"#version"/);
});
