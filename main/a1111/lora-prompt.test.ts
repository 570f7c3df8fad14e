import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLoraPrompt } from './lora-prompt.ts';

const cases: Array<[string, string, Array<{ name: string; weight: number }>]> = [
  ['a cat', 'a cat', []],
  ['a cat <lora:yoso_lora:1>', 'a cat', [{ name: 'yoso_lora', weight: 1 }]],
  ['a cat, <lora:style:0.8>, highly detailed', 'a cat, highly detailed', [{ name: 'style', weight: 0.8 }]],
  ['<lora:style>a cat', 'a cat', [{ name: 'style', weight: 1 }]],
  ['a cat <lora:style:-0.5>', 'a cat', [{ name: 'style', weight: -0.5 }]],
  ['a cat <lora:style:0.7:0.7>', 'a cat', [{ name: 'style', weight: 0.7 }]],
  ['a cat <lora:style:unet=0.6:te=0.6>', 'a cat', [{ name: 'style', weight: 0.6 }]],
  ['a cat <lyco:style:0.3>', 'a cat', [{ name: 'style', weight: 0.3 }]],
  ['a cat <lora:my lora v2:.5>', 'a cat', [{ name: 'my lora v2', weight: 0.5 }]],
  ['a <lora:a:1> cat <lora:b:2>', 'a cat', [{ name: 'a', weight: 1 }, { name: 'b', weight: 2 }]],
  ['multi\nline <lora:x:1>', 'multi\nline', [{ name: 'x', weight: 1 }]],
];

for (const [prompt, text, loras] of cases) {
  test(`parses ${JSON.stringify(prompt)}`, () => {
    assert.deepEqual(parseLoraPrompt(prompt), { text, loras });
  });
}

test('refuses what it cannot apply, naming the tag', () => {
  assert.throws(() => parseLoraPrompt('x <lora:style:strong>'), /<lora:style:strong>.*not a number/);
  assert.throws(() => parseLoraPrompt('x <lora:style:0.5:1>'), /separate text-encoder \(0\.5\) and UNet \(1\) weights/);
  assert.throws(() => parseLoraPrompt('x <hypernet:h:1>'), /extra network "hypernet" is not supported/);
  assert.throws(() => parseLoraPrompt('x <lora::1>'), /name is empty/);
  assert.throws(() => parseLoraPrompt('x <lora:s:dyn=3>'), /"dyn=" is not supported/);
});

test('angle brackets that are not extra networks stay in the prompt', () => {
  assert.deepEqual(parseLoraPrompt('a <sign> saying hi'), { text: 'a <sign> saying hi', loras: [] });
});
