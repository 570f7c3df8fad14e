// v2: full-text search on prompts (FTS5, external content: the text lives once, in `images`).
// Triggers keep the index in step; existing rows are indexed by the rebuild.
import type { Migration } from './types.ts';

export const migration002: Migration = {
  version: 2,
  name: 'prompt-search',
  up: `
    CREATE VIRTUAL TABLE images_fts USING fts5(
      prompt, negative_prompt, content = 'images', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER images_fts_insert AFTER INSERT ON images BEGIN
      INSERT INTO images_fts (rowid, prompt, negative_prompt) VALUES (new.rowid, new.prompt, new.negative_prompt);
    END;
    CREATE TRIGGER images_fts_delete AFTER DELETE ON images BEGIN
      INSERT INTO images_fts (images_fts, rowid, prompt, negative_prompt)
        VALUES ('delete', old.rowid, old.prompt, old.negative_prompt);
    END;
    CREATE TRIGGER images_fts_update AFTER UPDATE OF prompt, negative_prompt ON images BEGIN
      INSERT INTO images_fts (images_fts, rowid, prompt, negative_prompt)
        VALUES ('delete', old.rowid, old.prompt, old.negative_prompt);
      INSERT INTO images_fts (rowid, prompt, negative_prompt) VALUES (new.rowid, new.prompt, new.negative_prompt);
    END;
    INSERT INTO images_fts (images_fts) VALUES ('rebuild');
  `,
};
