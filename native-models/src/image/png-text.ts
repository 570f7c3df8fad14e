// Writing PNG text chunks. Like PIL, which A1111 uses, we write tEXt when the text is Latin-1 and
// iTXt (UTF-8) otherwise, so prompts in any language survive and older readers (A1111's PNG Info,
// Civitai) still see plain ASCII "parameters" in tEXt. Reading them back lives in main/png-metadata.
import { deflateSync } from 'node:zlib';
import type { PngChunk } from './png-chunks.ts';

function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A text chunk for `keyword` (1-79 Latin-1 characters). Texts longer than `compressAbove` are deflated in iTXt. */
export function textChunk(keyword: string, text: string, options: { compressAbove?: number } = {}): PngChunk {
  if (keyword.length < 1 || keyword.length > 79 || !isLatin1(keyword)) {
    throw new Error(`PNG text keyword must be 1-79 Latin-1 characters: ${JSON.stringify(keyword)}`);
  }
  const key = latin1Bytes(keyword);
  const compress = text.length > (options.compressAbove ?? Infinity);
  if (isLatin1(text) && !compress) {
    return { type: 'tEXt', data: concat([key, Uint8Array.of(0), latin1Bytes(text)]) };
  }
  const body = Buffer.from(text, 'utf8');
  // keyword \0 compressionFlag compressionMethod languageTag \0 translatedKeyword \0 text
  const header = Uint8Array.of(0, compress ? 1 : 0, 0, 0, 0);
  return { type: 'iTXt', data: concat([key, header, compress ? deflateSync(body) : body]) };
}
