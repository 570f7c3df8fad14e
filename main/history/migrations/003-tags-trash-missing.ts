// v3: tags, delete-with-undo (rows are hidden first, purged later) and the `missing` flag that
// reconcile sets when an image file is gone.
import type { Migration } from './types.ts';

export const migration003: Migration = {
  version: 3,
  name: 'tags-trash-missing',
  up: `
    ALTER TABLE images ADD COLUMN missing INTEGER NOT NULL DEFAULT 0 CHECK (missing IN (0, 1));
    ALTER TABLE images ADD COLUMN deleted_at TEXT;
    ALTER TABLE images ADD COLUMN delete_token TEXT;
    CREATE INDEX images_by_delete_token ON images (delete_token) WHERE delete_token IS NOT NULL;
    CREATE TABLE image_tags (
      image_rowid INTEGER NOT NULL REFERENCES images (rowid) ON DELETE CASCADE,
      tag TEXT NOT NULL COLLATE NOCASE,
      PRIMARY KEY (image_rowid, tag)
    ) WITHOUT ROWID;
    CREATE INDEX image_tags_by_tag ON image_tags (tag);
  `,
};
