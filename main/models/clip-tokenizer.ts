// Single-file checkpoints carry no tokenizer; SD 1.5 uses CLIP ViT-L/14's. Like diffusers'
// from_single_file (which fetches it from the Hub) the library downloads it once, at a pinned
// revision, into `<models>/tokenizers/clip-vit-large-patch14`, where every later import and the
// inference side find it. The files go to a staging folder first and appear with one rename, so
// the folder is either complete or absent.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkTokenizerDir } from '../../native-models/src/checkpoint/model-folder.ts';
import { SHARED_TOKENIZER_SUBDIR } from '../../native-models/src/checkpoint/tokenizer-source.ts';
import { downloadFile } from './download-file.ts';
import { fileMetadata } from './hub.ts';
import { stagingRoot } from './paths.ts';
import type { HubOptions, RetryOptions } from './types.ts';
import { PullError } from './types.ts';

export const CLIP_TOKENIZER_REPO = 'openai/clip-vit-large-patch14';
/** Pinned: the bytes never change under a user, and a mirror (HF_ENDPOINT) serves the same. */
export const CLIP_TOKENIZER_REVISION = '32bd64288804d66eefd0ccbe215aa642df71cc41';
export const CLIP_TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'] as const;

export const sharedTokenizerDir = (modelsDir: string) => join(modelsDir, SHARED_TOKENIZER_SUBDIR);

const isComplete = (dir: string) => existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'));

export interface TokenizerPullContext {
  hub: HubOptions;
  retry: RetryOptions;
  stallTimeoutMs: number;
  signal?: AbortSignal;
}

/** The cached tokenizer folder, downloaded first when missing. `downloaded` says whether bytes came over the network. */
export async function ensureClipTokenizer(modelsDir: string, ctx: TokenizerPullContext): Promise<{ dir: string; downloaded: boolean }> {
  const target = sharedTokenizerDir(modelsDir);
  if (isComplete(target)) return { dir: target, downloaded: false };
  const staging = join(stagingRoot(modelsDir), `tokenizer-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(staging, { recursive: true });
    const signal = ctx.signal ?? new AbortController().signal;
    for (const path of CLIP_TOKENIZER_FILES) {
      const meta = await fileMetadata(ctx.hub, CLIP_TOKENIZER_REPO, CLIP_TOKENIZER_REVISION, path, signal, ctx.stallTimeoutMs);
      const partPath = join(staging, `${path}.part`);
      await downloadFile({
        hub: ctx.hub,
        repo: CLIP_TOKENIZER_REPO,
        revision: CLIP_TOKENIZER_REVISION,
        path,
        meta,
        expectedSha256: null,
        partPath,
        signal,
        retry: ctx.retry,
        stallTimeoutMs: ctx.stallTimeoutMs,
        onBytes: () => {},
      });
      await rename(partPath, join(staging, path));
      await rm(`${partPath}.json`, { force: true });
    }
    await checkDownloaded(staging);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(staging, target);
    } catch (error) {
      // Another import won the race: its folder is as good as ours.
      if (!isComplete(target)) throw error;
    }
    return { dir: target, downloaded: true };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PullError(
      error instanceof PullError ? error.code : 'network',
      `could not download the CLIP tokenizer (${CLIP_TOKENIZER_REPO}@${CLIP_TOKENIZER_REVISION.slice(0, 7)}) from ${ctx.hub.endpoint}: ${reason}. ` +
        `Connect to the internet (or set HF_ENDPOINT to a Hub mirror) and try again, pass --tokenizer DIR with vocab.json and merges.txt ` +
        `(e.g. the tokenizer/ folder of any SD 1.5 model), or copy those files into ${target}`,
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** A captive portal's HTML page has the right name but is no vocabulary. */
async function checkDownloaded(dir: string): Promise<void> {
  checkTokenizerDir(dir);
  let vocab: unknown;
  try {
    vocab = JSON.parse(await readFile(join(dir, 'vocab.json'), 'utf8'));
  } catch {
    vocab = null;
  }
  if (typeof vocab !== 'object' || vocab === null || !('<|endoftext|>' in vocab)) {
    throw new PullError('invalid', 'the downloaded vocab.json is not a CLIP vocabulary');
  }
  if (!(await readFile(join(dir, 'merges.txt'), 'utf8')).startsWith('#version')) {
    throw new PullError('invalid', 'the downloaded merges.txt is not a BPE merges file');
  }
}
