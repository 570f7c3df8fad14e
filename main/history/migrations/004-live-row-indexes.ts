// v4: the gallery only ever lists rows that are not deleted, so index exactly those. The counts
// shown next to every page (`total`) then read a covering partial index instead of the table.
import type { Migration } from './types.ts';

export const migration004: Migration = {
  version: 4,
  name: 'live-row-indexes',
  up: `
    DROP INDEX images_by_time;
    DROP INDEX images_favourites;
    CREATE INDEX images_live_by_time ON images (created_at DESC, rowid DESC) WHERE deleted_at IS NULL;
    CREATE INDEX images_live_favourites ON images (created_at DESC, rowid DESC) WHERE favourite = 1 AND deleted_at IS NULL;
  `,
};
