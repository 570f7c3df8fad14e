// Single-file checkpoints carry no tokenizer. SD 1.5 uses CLIP ViT-L/14's; it is looked for, in
// order: the --tokenizer folder, a tokenizer/ folder beside a diffusers checkpoint, and the copy kept
// in the models folder (<models>/tokenizers/clip-vit-large-patch14, placed there by the model manager
// with the first download). Nothing is downloaded here.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkTokenizerDir } from './model-folder.ts';

export const SHARED_TOKENIZER_SUBDIR = join('tokenizers', 'clip-vit-large-patch14');

export function resolveTokenizerDir(opts: { tokenizer?: string; checkpoint: string; modelsDir: string }): string {
  if (opts.tokenizer) {
    checkTokenizerDir(opts.tokenizer);
    return opts.tokenizer;
  }
  const candidates = [join(opts.checkpoint, 'tokenizer'), join(dirname(opts.checkpoint), 'tokenizer'), join(opts.modelsDir, SHARED_TOKENIZER_SUBDIR)];
  const found = candidates.find((c) => existsSync(join(c, 'vocab.json')) && existsSync(join(c, 'merges.txt')));
  if (found) return found;
  throw new Error(
    `${opts.checkpoint} carries no tokenizer (single-file checkpoints never do) and none was found in ${candidates.join(', ')}. ` +
      'Pass --tokenizer DIR with the CLIP tokenizer files (vocab.json, merges.txt), e.g. the tokenizer/ folder of any SD 1.5 model, ' +
        'or download it once with `npm run models -- pull-tokenizer`.',
  );
}
