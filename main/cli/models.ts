// `npm run models -- <command>`: the model library from a terminal, with the same code the app
// and `serve` use. Progress goes to stderr, results to stdout; a failure is one line on stderr
// and a non-zero exit (1 = the operation failed, 2 = bad usage, 130 = interrupted and paused).
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { modelsDirFor, resolveDataFolder } from '../data-folder.ts';
import { ModelLibrary, type PullHandle, type PullRequest } from '../models/index.ts';
import { formatBytes, progressLine, table } from './models-format.ts';

const USAGE = `usage: npm run models -- <command> [options]
  list                                  installed models with their size, and paused downloads
  catalog                               the catalog: what can be downloaded, installed or not
  pull ID|REPO [--revision REV] [--file PATH]... [--id ID]
                                        download a catalog entry, or files of a Hugging Face repo
                                        (no --file: the ONNX pipeline files of the repo)
  import PATH [--id ID] [--name NAME] [--replace] [--tokenizer DIR]
                                        check and copy in an ONNX pipeline folder or a LoRA .safetensors,
                                        or build one from an SD 1.5 single-file checkpoint .safetensors
                                        (the first one downloads the CLIP tokenizer, unless --tokenizer)
  pull-tokenizer                        download the CLIP tokenizer that checkpoints need (once, ~1.5 MB)
  remove ID [--yes]                     delete an installed model (asks first unless --yes)
  cancel ID                             drop a paused download and its partial files
options for every command:
  --models DIR   models folder (default $YOSO_MODELS_DIR, else <data>/models, as serve and the app)
  --data DIR     data folder (default YOSO_STUDIO_DATA, else the app's)
environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (for gated repos)`;

class UsageError extends Error {}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        models: { type: 'string' },
        data: { type: 'string' },
        revision: { type: 'string' },
        file: { type: 'string', multiple: true },
        id: { type: 'string' },
        name: { type: 'string' },
        replace: { type: 'boolean' },
        tokenizer: { type: 'string' },
        config: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function modelsDirOf(values: { models?: string; data?: string }): string {
  if (values.models) return resolve(values.models);
  return modelsDirFor(values.data ? resolve(values.data) : resolveDataFolder({ argv: [] }).path);
}

/**
 * One progress line, rewritten in place on a terminal, every 5 s otherwise (logs stay short).
 * A failure prints no progress line: the error line says it all.
 */
function reportProgress(library: ModelLibrary): () => void {
  const tty = process.stderr.isTTY;
  let lastPrinted = Date.now();
  return library.onProgress((p) => {
    if (p.state === 'failed' || p.state === 'cancelled') {
      if (tty) process.stderr.write('\r\x1b[K');
      return;
    }
    const now = Date.now();
    const final = p.state === 'done' || p.state === 'paused';
    if (tty) process.stderr.write(`\r\x1b[K${progressLine(p)}${final ? '\n' : ''}`);
    else if (final || now - lastPrinted >= 5000) {
      lastPrinted = now;
      process.stderr.write(`${progressLine(p)}\n`);
    }
  });
}

async function pull(library: ModelLibrary, target: string, values: ReturnType<typeof parse>['values']): Promise<number> {
  const request: PullRequest = target.includes('/')
    ? { repo: target, revision: values.revision, files: values.file, id: values.id }
    : { catalogId: target };
  if (!target.includes('/') && (values.revision || values.file || values.id)) {
    throw new UsageError('--revision, --file and --id go with a Hub repo (owner/name), not a catalog id');
  }
  const pending = (await library.downloads()).find((d) => d.id === (values.id ?? target));
  if (pending) process.stderr.write(`resuming ${pending.id}: ${formatBytes(pending.receivedBytes)} already on disk\n`);
  reportProgress(library);
  const handle: PullHandle = library.pull(request);
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    handle.pause();
  });
  try {
    const model = await Promise.race([handle.done, waitForPause(handle)]);
    if (model) {
      process.stdout.write(`installed ${model.id} (${formatBytes(model.sizeBytes)}) in ${library.modelsDir}\n`);
      return 0;
    }
  } finally {
    await handle.idle();
  }
  if (interrupted) process.stderr.write(`paused ${handle.id}; run the same command again to resume\n`);
  return 130;
}

/** Resolves (with null) once a pause (Ctrl-C) has stopped the transfers. */
function waitForPause(handle: PullHandle): Promise<null> {
  return new Promise((resolvePause) => {
    const timer = setInterval(() => {
      if (handle.progress().state === 'paused') {
        clearInterval(timer);
        void handle.idle().then(() => resolvePause(null));
      }
    }, 100);
    void handle.done.finally(() => clearInterval(timer)).catch(() => {});
  });
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [command, target, ...extra] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  const needsTarget = ['pull', 'import', 'remove', 'cancel'].includes(command);
  if (needsTarget && !target) throw new UsageError(`${command} needs ${command === 'import' ? 'a PATH' : 'an ID'}`);
  const library = new ModelLibrary({ modelsDir: modelsDirOf(values) });

  switch (command) {
    case 'list': {
      const models = await library.list();
      const downloads = await library.downloads();
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ modelsDir: library.modelsDir, models, downloads }, null, 2)}\n`);
        return 0;
      }
      if (models.length === 0) process.stdout.write(`no models in ${library.modelsDir}\n`);
      else {
        const rows = [['ID', 'KIND', 'SIZE', 'SOURCE', 'NAME'], ...models.map((m) => [m.id, m.kind, formatBytes(m.sizeBytes), m.source, m.name])];
        process.stdout.write(`${table(rows)}\n`);
      }
      for (const d of downloads) process.stdout.write(`paused download: ${progressLine(d)} (resume: npm run models -- pull ${d.catalogId})\n`);
      return 0;
    }
    case 'catalog': {
      const entries = await library.catalog();
      if (values.json) {
        process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return 0;
      }
      const rows = [
        ['ID', 'KIND', 'SIZE', 'STATE', 'NAME'],
        ...entries.map((e) => [e.id, e.kind, e.sizeBytes ? `~${formatBytes(e.sizeBytes)}` : '?', e.installed ? 'installed' : e.manualInstructions ? 'export yourself' : 'available', e.name]),
      ];
      process.stdout.write(`${table(rows)}\n`);
      return 0;
    }
    case 'pull':
      return pull(library, target!, values);
    case 'import': {
      process.stderr.write(`checking ${resolve(target!)} …\n`);
      const note = (message: string) => process.stderr.write(`${message} …\n`);
      const model = await library.importPath(target!, { id: values.id, name: values.name, replace: values.replace, tokenizer: values.tokenizer, config: values.config, onNote: note });
      process.stdout.write(`imported ${model.id} (${model.kind}, ${formatBytes(model.sizeBytes)}) into ${library.modelsDir}\n`);
      return 0;
    }
    case 'pull-tokenizer': {
      const { dir, downloaded } = await library.pullTokenizer();
      process.stdout.write(`${downloaded ? 'downloaded the CLIP tokenizer into' : 'the CLIP tokenizer is already in'} ${dir}\n`);
      return 0;
    }
    case 'remove': {
      const model = (await library.list()).find((m) => m.id === target);
      if (!model) throw new Error(`no installed model with id ${target} in ${library.modelsDir} (see: npm run models -- list)`);
      if (!values.yes) {
        if (!process.stdin.isTTY) throw new UsageError(`remove asks before deleting; without a terminal add --yes to delete ${target}`);
        if (!(await confirm(`delete ${model.name} (${formatBytes(model.sizeBytes)}) from ${library.modelsDir}? [y/N] `))) {
          process.stderr.write('nothing deleted\n');
          return 1;
        }
      }
      await library.remove(target!, { confirm: true });
      process.stdout.write(`removed ${target}\n`);
      return 0;
    }
    case 'cancel':
      await library.cancelDownload(target!);
      process.stdout.write(`cancelled ${target}; its partial files were deleted\n`);
      return 0;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    process.stderr.write(`error: ${message}\n`);
    if (error instanceof UsageError) process.stderr.write('run `npm run models -- --help` for usage\n');
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
