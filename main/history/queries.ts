// Gallery queries: newest first, keyset (cursor) pagination on (created_at, rowid) so page N costs
// the same as page 1, FTS5 for prompt search, filters on model, LoRA, favourites and time.
import type Database from 'better-sqlite3';
import { type ImageRow, rowToItem, TAG_SEPARATOR } from './rows.ts';
import type { HistoryPage, HistoryQuery } from './types.ts';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 500;

export class InvalidQueryError extends Error {
  override name = 'InvalidQueryError';
}

interface Cursor {
  t: string;
  r: number;
}

function encodeCursor(row: ImageRow): string {
  return Buffer.from(JSON.stringify({ t: row.created_at, r: row.rowid } satisfies Cursor)).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.t === 'string' && Number.isInteger(c.r)) return c;
  } catch {
    // reported below
  }
  throw new InvalidQueryError('the page cursor is not valid; start again from the first page');
}

/** User words -> FTS5 query: every word must match (prefix match on the last, for search-as-you-type). */
export function ftsQuery(text: string): string | null {
  const words = text.match(/[\p{L}\p{N}_]+/gu) ?? [];
  if (words.length === 0) return null;
  return words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
}

function isoOrThrow(value: string, name: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidQueryError(`${name} must be a date or ISO time, got ${JSON.stringify(value)}`);
  return new Date(t).toISOString();
}

function whereClause(q: HistoryQuery): { sql: string; params: unknown[] } {
  const parts = ['i.deleted_at IS NULL'];
  const params: unknown[] = [];
  const match = q.search ? ftsQuery(q.search) : null;
  if (match) {
    parts.push('i.rowid IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)');
    params.push(match);
  }
  if (q.baseModelId) {
    parts.push('i.base_model_id = ?');
    params.push(q.baseModelId);
  }
  if (q.loraId) {
    parts.push('i.lora_id = ?');
    params.push(q.loraId);
  }
  if (q.favouritesOnly) parts.push('i.favourite = 1');
  if (q.since) {
    parts.push('i.created_at >= ?');
    params.push(isoOrThrow(q.since, 'since'));
  }
  if (q.until) {
    parts.push('i.created_at < ?');
    params.push(isoOrThrow(q.until, 'until'));
  }
  return { sql: parts.join(' AND '), params };
}

export function countImages(db: Database.Database, q: HistoryQuery): number {
  const { sql, params } = whereClause(q);
  return (db.prepare(`SELECT count(*) AS n FROM images i WHERE ${sql}`).get(...params) as { n: number }).n;
}

export const SELECT_ITEM = `SELECT i.*, (SELECT group_concat(tag, '${TAG_SEPARATOR}') FROM image_tags t WHERE t.image_rowid = i.rowid) AS tags FROM images i`;

export function listImages(db: Database.Database, q: HistoryQuery): HistoryPage {
  const limit = q.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new InvalidQueryError(`limit must be a whole number from 1 to ${MAX_PAGE}, got ${limit}`);
  }
  const where = whereClause(q);
  let sql = where.sql;
  const params = [...where.params];
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    sql += ' AND (i.created_at, i.rowid) < (?, ?)';
    params.push(c.t, c.r);
  }
  const rows = db
    .prepare(`${SELECT_ITEM} WHERE ${sql} ORDER BY i.created_at DESC, i.rowid DESC LIMIT ?`)
    .all(...params, limit + 1) as ImageRow[];
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return {
    items: page.map(rowToItem),
    nextCursor: more ? encodeCursor(page.at(-1)!) : null,
    total: countImages(db, q),
  };
}
