// Reading tEXt (Latin-1), zTXt (Latin-1, deflated) and iTXt (UTF-8, optionally deflated) text
// chunks. Writing them (tEXt when Latin-1, iTXt otherwise, as PIL does) is the encoder's, in native-models.
import { inflateSync } from 'node:zlib';
import type { PngChunk } from './chunks.ts';

export { textChunk } from '../../native-models/src/image/png-text.ts';

const utf8 = new TextDecoder('utf-8', { fatal: false });
const latin1 = new TextDecoder('latin1');

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
