// v1: one row per image with everything that made it. Times are ISO-8601 UTC with milliseconds,
// so text order is time order. `rowid` orders ties and keys the full-text index; `id` is the
// stable public id (also embedded in the PNG, so a re-import restores it).
import type { Migration } from './types.ts';

export const migration001: Migration = {
  version: 1,
  name: 'images',
  up: `
    CREATE TABLE images (
      rowid INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      prompt TEXT NOT NULL,
      negative_prompt TEXT NOT NULL DEFAULT '',
      seed INTEGER NOT NULL,
      steps INTEGER NOT NULL,
      guidance REAL NOT NULL,
      width INTEGER NOT NULL,
      height INTEGER NOT NULL,
      base_model_id TEXT NOT NULL,
      base_model_name TEXT NOT NULL,
      base_model_hash TEXT,
      lora_id TEXT,
      lora_name TEXT,
      lora_hash TEXT,
      lora_scale REAL,
      provider TEXT NOT NULL,
      timings_json TEXT NOT NULL DEFAULT '{}',
      batch_id TEXT NOT NULL,
      batch_index INTEGER NOT NULL DEFAULT 0,
      request_json TEXT NOT NULL,
      image_path TEXT NOT NULL UNIQUE,
      thumbnail_path TEXT,
      favourite INTEGER NOT NULL DEFAULT 0 CHECK (favourite IN (0, 1))
    );
    CREATE INDEX images_by_time ON images (created_at DESC, rowid DESC);
    CREATE INDEX images_by_model ON images (base_model_id, created_at DESC, rowid DESC);
    CREATE INDEX images_favourites ON images (created_at DESC, rowid DESC) WHERE favourite = 1;
  `,
};
