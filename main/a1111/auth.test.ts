import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBasicAuth, parseApiAuth } from './auth.ts';
import { A1111HttpError } from './errors.ts';

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

test('--api-auth takes user:pass pairs, passwords may hold colons', () => {
  const creds = parseApiAuth('alice:secret,bob:pa:ss');
  assert.equal(creds.get('alice'), 'secret');
  assert.equal(creds.get('bob'), 'pa:ss');
  assert.throws(() => parseApiAuth('alice'), /user:password pairs.*"alice"/);
  assert.throws(() => parseApiAuth('alice:'), /"alice:\*\*\*"/);
});

test('Basic auth as A1111 answers it', () => {
  const creds = parseApiAuth('alice:secret,bob:pa:ss');
  checkBasicAuth(creds, basic('alice:secret'));
  checkBasicAuth(creds, basic('bob:pa:ss'));
  const expect401 = (header: string | undefined, detail: string) =>
    assert.throws(
      () => checkBasicAuth(creds, header),
      (error: unknown) =>
        error instanceof A1111HttpError &&
        error.status === 401 &&
        error.detail === detail &&
        error.headers['WWW-Authenticate'] === 'Basic',
    );
  expect401(undefined, 'Not authenticated');
  expect401('Bearer abc', 'Not authenticated');
  expect401(basic('alice:wrong'), 'Incorrect username or password');
  expect401(basic('carol:secret'), 'Incorrect username or password');
  expect401(basic('alice'), 'Incorrect username or password');
});
