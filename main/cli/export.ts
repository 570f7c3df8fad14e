// npm run export -- --data DIR [--search TEXT] [--favourites] [--since DATE] [--until DATE]
//                   [--day YYYY-MM-DD] [--model ID] --to PATH(.zip|folder) [--name TEMPLATE] [--strip-metadata]
// Exit codes: 0 all exported, 1 failed or some images skipped, 2 bad arguments, 130 cancelled (Ctrl-C).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveDataFolder } from '../data-folder.ts';
import { DEFAULT_TEMPLATE, TEMPLATE_TOKENS, exportImages, type ExportSelection } from '../export/index.ts';
import { openHistory } from '../history/index.ts';
import { DATABASE_FILE } from '../history/layout.ts';

const USAGE = `Export gallery images to a folder or a .zip, with manifest.csv and manifest.json.

  npm run export -- --to PATH [options]

  --data DIR          data folder (default: $YOSO_STUDIO_DATA, then the app's folder)
  --to PATH           target folder, or a file name ending in .zip (never overwritten)
  --search TEXT       only images whose prompt matches TEXT
  --favourites        only favourites
  --model ID          only images made with this base model
  --since DATE        only images made at or after DATE (e.g. 2026-11-01 or an ISO time)
  --until DATE        only images made before DATE
  --day YYYY-MM-DD    one whole (local) day
  --ids ID,ID,...     exactly these images
  --name TEMPLATE     file names, default ${DEFAULT_TEMPLATE}
                      tokens: ${TEMPLATE_TOKENS.map((t) => `{${t}}`).join(' ')}
  --strip-metadata    drop the prompt and parameters from the PNGs (privacy)
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`export: ${message}\n`);
  process.exit(code);
}

/** A date-only value is a local calendar day, like the gallery shows it. */
function toIso(value: string, name: string): string {
  const local = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00`) : new Date(value);
  if (Number.isNaN(local.getTime())) fail(`--${name} must be a date like 2026-11-01 or an ISO time, got "${value}"`);
  return local.toISOString();
}

async function main() {
  let args;
  try {
    args = parseArgs({
      options: {
        data: { type: 'string' },
        to: { type: 'string' },
        search: { type: 'string' },
        favourites: { type: 'boolean', default: false },
        model: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        day: { type: 'string' },
        ids: { type: 'string' },
        name: { type: 'string' },
        'strip-metadata': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!args.to) fail(`--to is required\n\n${USAGE}`);
  const dataDir = resolveDataFolder({ argv: args.data ? ['--data', args.data] : [] }).path;
  if (!existsSync(resolve(dataDir, DATABASE_FILE))) {
    fail(`no gallery in ${dataDir} (no ${DATABASE_FILE}); pass the data folder with --data DIR`);
  }
  let selection: ExportSelection;
  if (args.ids) selection = { ids: args.ids.split(',').map((s) => s.trim()).filter(Boolean) };
  else if (args.day) selection = { day: args.day };
  else {
    selection = {
      query: {
        search: args.search,
        favouritesOnly: args.favourites || undefined,
        baseModelId: args.model,
        since: args.since ? toIso(args.since, 'since') : undefined,
        until: args.until ? toIso(args.until, 'until') : undefined,
      },
    };
  }

  // The app may be running on the same folder: read only, no reconcile (that is the app's job).
  const store = await openHistory({ dataDir, reconcile: false });
  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\ncancelling…\n');
    controller.abort();
  });
  const started = performance.now();
  let lastShown = 0;
  try {
    const result = await exportImages(store, {
      selection,
      to: resolve(args.to),
      nameTemplate: args.name,
      stripMetadata: args['strip-metadata'],
      signal: controller.signal,
      onProgress: ({ done, total }) => {
        const now = performance.now();
        if (now - lastShown < 250 && done < total) return;
        lastShown = now;
        process.stderr.write(`\rexported ${done}/${total}`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write('\n');
    for (const s of result.skipped) process.stderr.write(`skipped ${s.id}: ${s.reason}\n`);
    if (result.state === 'done') {
      process.stdout.write(
        `exported ${result.exported.length} of ${result.total} images to ${result.to} in ${seconds.toFixed(1)} s` +
          `${result.manifest ? ` (manifest: ${result.manifest.csv}, ${result.manifest.json})` : ''}\n`,
      );
      process.exitCode = result.skipped.length > 0 ? 1 : 0;
    } else if (result.state === 'cancelled') {
      process.stderr.write(
        result.kind === 'zip'
          ? 'cancelled; no zip was written\n'
          : `cancelled; ${result.exported.length} complete images are in ${result.to}\n`,
      );
      process.exitCode = 130;
    } else {
      process.stderr.write(`export failed: ${result.error}\n`);
      process.stderr.write(
        result.kind === 'zip'
          ? 'no zip was written\n'
          : `${result.exported.length} complete images were exported to ${result.to} before the failure\n`,
      );
      process.exitCode = 1;
    }
  } finally {
    store.close();
  }
}

main().catch((error: unknown) => fail((error as Error).message, 1));
