// Test fixtures live in ../shared beside the repository (never copied in). Tests call
// fixturePath('tiny-sd15/...') so a missing checkout fails with a message that says where to look.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES_DIR = process.env.YOSO_FIXTURES ?? join(repoRoot, '..', 'shared', 'fixtures');

export function fixturePath(relative: string): string {
  const path = join(FIXTURES_DIR, relative);
  if (!existsSync(path)) {
    throw new Error(
      `test fixture ${path} is missing: check out the shared fixtures beside the repository (../shared/fixtures) or set YOSO_FIXTURES`,
    );
  }
  return path;
}

export const TINY_SD15 = () => fixturePath('tiny-sd15');
