// tEXt (Latin-1), zTXt (Latin-1, deflated) and iTXt (UTF-8, optionally deflated) text chunks.
// Like PIL, which A1111 uses, we write tEXt when the text is Latin-1 and iTXt otherwise, so
// prompts in any language survive and older readers still see plain ASCII prompts.
import { deflateSync, inflateSync } from 'node:zlib';
import type { PngChunk } from './chunks.ts';

const utf8 = new TextDecoder('utf-8', { fatal: false });
const latin1 = new TextDecoder('latin1');

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

/** A text chunk for `keyword` (1-79 Latin-1 characters). Large texts are compressed in iTXt. */
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

/** Reads every text chunk; later chunks with the same keyword win, as in PIL. */
export function readTextChunks(chunks: readonly PngChunk[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { type, data } of chunks) {
    const nul = data.indexOf(0);
    if (nul <= 0) continue;
    const keyword = latin1.decode(data.subarray(0, nul));
    try {
      if (type === 'tEXt') out[keyword] = latin1.decode(data.subarray(nul + 1));
      else if (type === 'zTXt') out[keyword] = latin1.decode(inflateSync(data.subarray(nul + 2)));
      else if (type === 'iTXt') {
        const compressed = data[nul + 1] === 1;
        const langEnd = data.indexOf(0, nul + 3);
        const transEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
        if (transEnd < 0) continue;
        const body = data.subarray(transEnd + 1);
        out[keyword] = utf8.decode(compressed ? inflateSync(body) : body);
      }
    } catch {
      // A damaged compressed text chunk must not make the image unreadable; the keyword is skipped.
    }
  }
  return out;
}
