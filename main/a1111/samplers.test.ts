import assert from 'node:assert/strict';
import { test } from 'node:test';
import { A1111HttpError } from './errors.ts';
import { resolveSampler, SAMPLERS } from './samplers.ts';

test('LCM-family names and no name map to LCM', () => {
  for (const name of [undefined, '', 'LCM', 'lcm', 'k_lcm', 'LCM Karras', 'lcm karras', 'LCM Exponential', 'LCM  SGM Uniform', 'LCM_Karras']) {
    assert.equal(resolveSampler(name), 'lcm', String(name));
  }
});

test('other samplers get A1111 "Sampler not found" with what we support', () => {
  for (const name of ['Euler a', 'DPM++ 2M Karras', 'DDIM', 'LCMX', 'LCM Turbo']) {
    assert.throws(
      () => resolveSampler(name),
      (error: unknown) => {
        assert.ok(error instanceof A1111HttpError);
        assert.equal(error.status, 404);
        const body = error.body();
        assert.equal(body.error, 'HTTPException');
        assert.match(body.detail, new RegExp(`Sampler not found: "${name.replace(/[+]/g, '\\+')}"`));
        assert.match(body.detail, /LCM/);
        assert.match(body.errors, /^404: /);
        return true;
      },
    );
  }
});

test('the sampler list is A1111 SamplerItem shaped', () => {
  assert.deepEqual(SAMPLERS, [{ name: 'LCM', aliases: ['lcm', 'k_lcm'], options: {} }]);
});
