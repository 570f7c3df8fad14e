import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { it } from 'node:test';
import { dataArgument, resolveDataFolder } from './data-folder.ts';

it('picks --data, then YOSO_STUDIO_DATA, then Electron userData, then the platform folder', () => {
  const env = { YOSO_STUDIO_DATA: '/env/data' };
  assert.deepEqual(resolveDataFolder({ argv: ['--data', 'rel/dir'], env }), { path: resolve('rel/dir'), from: 'argument' });
  assert.deepEqual(resolveDataFolder({ argv: ['--data=/a'], env }), { path: '/a', from: 'argument' });
  assert.deepEqual(resolveDataFolder({ argv: [], env, electronUserData: '/e' }), { path: '/env/data', from: 'environment' });
  assert.deepEqual(resolveDataFolder({ argv: [], env: {}, electronUserData: '/e' }), { path: '/e', from: 'electron' });
  const linux = resolveDataFolder({ argv: [], env: {}, platform: 'linux', home: '/home/u' });
  assert.deepEqual(linux, { path: '/home/u/.config/YOSO Studio', from: 'platform-default' });
  assert.equal(resolveDataFolder({ argv: [], env: { XDG_CONFIG_HOME: '/x' }, platform: 'linux', home: '/h' }).path, '/x/YOSO Studio');
  assert.equal(resolveDataFolder({ argv: [], env: {}, platform: 'darwin', home: '/Users/u' }).path, '/Users/u/Library/Application Support/YOSO Studio');
  assert.match(resolveDataFolder({ argv: [], env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, platform: 'win32', home: 'C:\\Users\\u' }).path, /Roaming.YOSO Studio$/);
});

it('says what --data needs when its value is missing', () => {
  assert.throws(() => dataArgument(['--data']), /--data needs a folder path/);
  assert.throws(() => dataArgument(['--data', '--other']), /--data needs a folder path/);
  assert.equal(dataArgument(['--x']), undefined);
});
