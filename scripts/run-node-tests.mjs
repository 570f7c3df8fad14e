// Runs every *.test.ts under native-models/ and main/ with Node's own test runner (through tsx).
// Node 20 cannot glob TypeScript test files itself, so we list them here. Pass paths or
// substrings to run a subset: `npm run test:node -- lora history`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const roots = ['native-models', 'main'];
const skipDirs = new Set(['node_modules', 'dist', 'out']);

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    if (skipDirs.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const filters = process.argv.slice(2);
const files = roots
  .flatMap((root) => findTests(root))
  .map((file) => relative(process.cwd(), file))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no test files matched ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
