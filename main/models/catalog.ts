// Loads resources/catalog.json and validates it; errors name the entry and field.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Catalog, type CatalogModel } from './catalog-schema.ts';

export const DEFAULT_CATALOG_PATH = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'resources',
  'catalog.json',
);

export function parseCatalog(json: unknown, source = 'catalog'): Catalog {
  const parsed = Catalog.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? first.path.join('.') : '';
    throw new Error(`${source} is invalid at ${where || '(root)'}: ${first?.message ?? 'unknown error'}`);
  }
  return parsed.data;
}

export function loadCatalog(path: string = DEFAULT_CATALOG_PATH): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the model catalog ${path}: ${(error as Error).message}`);
  }
  return parseCatalog(JSON.parse(text), path);
}

export function findCatalogModel(catalog: Catalog, id: string): CatalogModel | undefined {
  return catalog.models.find((m) => m.id === id);
}

