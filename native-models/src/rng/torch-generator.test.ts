import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { TorchGenerator, toU64Seed } from './torch-generator.ts';

interface Entry {
  call: string;
  seed: number;
  shape: number[];
  first_values: number[];
  last_values: number[];
  sum_float64: number;
}
const reference = JSON.parse(readFileSync(fixturePath('tiny-sd15/rng/torch_randn.json'), 'utf8')) as {
  entries: Entry[];
  sequence_seed318_two_draws_1x4x8x8: { a_first_values: number[]; a_sum_float64: number; b_first_values: number[]; b_sum_float64: number };
};

const sum = (v: Float32Array) => v.reduce((a, b) => a + b, 0);

for (const entry of reference.entries) {
  test(`torch.randn bit for bit: ${entry.call}`, () => {
    const values = new TorchGenerator(entry.seed).randn(entry.shape);
    assert.equal(values.length, entry.shape.reduce((a, b) => a * b, 1));
    assert.deepEqual(Array.from(values.subarray(0, entry.first_values.length)), entry.first_values);
    assert.deepEqual(Array.from(values.subarray(values.length - entry.last_values.length)), entry.last_values);
    // Summing in float64 in order reproduces torch's sum exactly only if every value is identical.
    assert.equal(sum(values), entry.sum_float64);
  });
}

test('successive draws continue one stream (initial latents, then step noise)', () => {
  const ref = reference.sequence_seed318_two_draws_1x4x8x8;
  const g = new TorchGenerator(318);
  const a = g.randn([1, 4, 8, 8]);
  const b = g.randn([1, 4, 8, 8]);
  assert.deepEqual(Array.from(a.subarray(0, 16)), ref.a_first_values);
  assert.equal(sum(a), ref.a_sum_float64);
  assert.deepEqual(Array.from(b.subarray(0, 16)), ref.b_first_values);
  assert.equal(sum(b), ref.b_sum_float64);
});

test('the scalar path caches the second Box-Muller value across calls', () => {
  const whole = new TorchGenerator(0).randn([4]);
  const g = new TorchGenerator(0);
  const parts = [...g.randn([1]), ...g.randn([3])];
  assert.deepEqual(parts, Array.from(whole));
});

test('seeds are unsigned 64-bit; torch seeds MT19937 with the low 32 bits', () => {
  const low = new TorchGenerator(318).randn([16]);
  const high = new TorchGenerator((5n << 32n) + 318n).randn([16]);
  assert.deepEqual(high, low);
  assert.equal(toU64Seed(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.throws(() => toU64Seed(-1), /seed must be/);
  assert.throws(() => toU64Seed(1.5), /seed must be/);
  assert.throws(() => toU64Seed(2n ** 64n), /seed must be/);
});
