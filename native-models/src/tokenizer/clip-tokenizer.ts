/**
 * CLIP's byte-level BPE tokenizer, giving the ids of transformers' CLIPTokenizer (vocab.json +
 * merges.txt of the model folder). Prompts become [BOS, …tokens, EOS] padded with EOS to 77;
 * longer prompts are truncated to 75 tokens between BOS and EOS and report how many were dropped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToUnicode } from './bytes-to-unicode.ts';
import { cleanText } from './text-cleaning.ts';

export const BOS = '<|startoftext|>';
export const EOS = '<|endoftext|>';
export const CONTEXT_LENGTH = 77;
/** CLIP uses the first 49152 - 256 - 2 merges of the file (after its "#version" line). */
const MERGE_COUNT = 49152 - 256 - 2;

const utf8 = new TextEncoder();
const SPECIAL_SPLIT = /(<\|startoftext\|>|<\|endoftext\|>)/;
const WORD_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

export interface TokenizedPrompt {
  /** Exactly CONTEXT_LENGTH ids: BOS, tokens, EOS, EOS padding. */
  ids: number[];
  /** Tokens of the prompt (without BOS/EOS) before truncation. */
  tokenCount: number;
  /** Prompt tokens cut off by truncation (0 when the prompt fits). */
  dropped: number;
}

export class ClipTokenizer {
  private readonly byteEncoder = bytesToUnicode();
  private readonly cache = new Map<string, string[]>();
  readonly bosId: number;
  readonly eosId: number;

  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    private readonly ranks: ReadonlyMap<string, number>,
  ) {
    const bos = vocab.get(BOS);
    const eos = vocab.get(EOS);
    if (bos === undefined || eos === undefined) throw new Error(`vocab.json: lacks ${BOS} or ${EOS}`);
    this.bosId = bos;
    this.eosId = eos;
  }

  /** Reads tokenizer/vocab.json and tokenizer/merges.txt of a model folder. */
  static fromFolder(dir: string): ClipTokenizer {
    return ClipTokenizer.fromFiles(join(dir, 'vocab.json'), join(dir, 'merges.txt'));
  }

  static fromFiles(vocabPath: string, mergesPath: string): ClipTokenizer {
    let rawVocab: unknown;
    try {
      rawVocab = JSON.parse(readFileSync(vocabPath, 'utf8'));
    } catch (e) {
      throw new Error(`${vocabPath}: expected a JSON object of token -> id (${(e as Error).message})`);
    }
    if (typeof rawVocab !== 'object' || rawVocab === null || Array.isArray(rawVocab)) {
      throw new Error(`${vocabPath}: expected a JSON object of token -> id`);
    }
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(rawVocab)) {
      if (typeof id !== 'number') throw new Error(`${vocabPath}: id of ${JSON.stringify(token)} is not a number`);
      vocab.set(token, id);
    }
    const lines = readFileSync(mergesPath, 'utf8').trim().split('\n');
    if (!lines[0]?.startsWith('#version')) throw new Error(`${mergesPath}: expected a "#version" first line`);
    const ranks = new Map<string, number>();
    lines.slice(1, 1 + MERGE_COUNT).forEach((line, rank) => {
      const parts = line.split(/\s+/);
      if (parts.length !== 2) throw new Error(`${mergesPath}:${rank + 2}: expected two symbols, got ${JSON.stringify(line)}`);
      ranks.set(`${parts[0]} ${parts[1]}`, rank);
    });
    return new ClipTokenizer(vocab, ranks);
  }

  /** Prompt token ids without BOS/EOS. Literal <|startoftext|>/<|endoftext|> in the text stay special, as in transformers. */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    for (const piece of text.split(SPECIAL_SPLIT)) {
      if (piece === BOS || piece === EOS) {
        ids.push(piece === BOS ? this.bosId : this.eosId);
        continue;
      }
      for (const word of cleanText(piece).match(WORD_PATTERN) ?? []) {
        const encoded = Array.from(utf8.encode(word), (b) => this.byteEncoder[b]!).join('');
        for (const symbol of this.bpe(encoded)) ids.push(this.vocab.get(symbol) ?? this.eosId);
      }
    }
    return ids;
  }

  /** Tokens, padded/truncated to the 77-id context the text encoder takes. */
  encode(text: string): TokenizedPrompt {
    const tokens = this.tokenize(text);
    const room = CONTEXT_LENGTH - 2;
    const kept = tokens.slice(0, room);
    const ids = [this.bosId, ...kept, this.eosId];
    while (ids.length < CONTEXT_LENGTH) ids.push(this.eosId);
    return { ids, tokenCount: tokens.length, dropped: tokens.length - kept.length };
  }

  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    let word = [...chars.slice(0, -1), `${chars.at(-1)}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      // Merge every non-overlapping occurrence of the pair, left to right.
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && word[i + 1] === second && i < word.length - 1) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }
}
