// Schema migrations, one per file, applied in order; PRAGMA user_version records the last one.
// Each runs in its own transaction with its version bump, so a crash leaves a whole version.
import type Database from 'better-sqlite3';
import { migration001 } from './001-images.ts';
import { migration002 } from './002-prompt-search.ts';
import { migration003 } from './003-tags-trash-missing.ts';
import type { Migration } from './types.ts';

export type { Migration } from './types.ts';

export const migrations: readonly Migration[] = [migration001, migration002, migration003];
export const LATEST_VERSION = migrations.at(-1)!.version;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings the database to `target` (default: latest). Refuses databases from a newer app. */
export function migrate(db: Database.Database, target = LATEST_VERSION): number {
  const current = schemaVersion(db);
  if (current > LATEST_VERSION) {
    throw new Error(
      `the history database is version ${current}, newer than this app understands (${LATEST_VERSION}); ` +
        'update YOSO Studio or open a different data folder',
    );
  }
  for (const m of migrations) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.up);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return schemaVersion(db);
}
