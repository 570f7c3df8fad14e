// /sdapi/v1/png-info: the `parameters` text of a PNG (ours or A1111's), its other text chunks,
// and the text parsed into A1111's dict (parse_generation_parameters: "Prompt", "Negative prompt",
// each `key: value`, "Size" split into "Size-1"/"Size-2"; values stay strings as A1111 keeps them).
import { isPng, parseA1111Parameters, readPngText } from '../png-metadata/index.ts';
import { A1111HttpError } from './errors.ts';
import type { PngInfoResponse } from './schemas.ts';

export function parametersDict(info: string): Record<string, string> {
  if (info.trim() === '') return {};
  const { prompt, negativePrompt, params } = parseA1111Parameters(info);
  const dict: Record<string, string> = { Prompt: prompt, 'Negative prompt': negativePrompt };
  for (const [key, value] of Object.entries(params)) {
    const size = /^(\d+)x(\d+)$/.exec(value);
    if (size) {
      dict[`${key}-1`] = size[1]!;
      dict[`${key}-2`] = size[2]!;
    } else {
      dict[key] = value;
    }
  }
  return dict;
}

export function readPngInfo(png: Uint8Array): PngInfoResponse {
  // A1111 answers an image it cannot open with a 500 "Invalid encoded image".
  if (!isPng(png)) throw new A1111HttpError(500, 'Invalid encoded image: png-info reads PNG files (base64, optionally as a data: URL)');
  let text: Record<string, string>;
  try {
    text = readPngText(png);
  } catch (error) {
    throw new A1111HttpError(500, `Invalid encoded image: ${(error as Error).message}`);
  }
  const { parameters: info = '', ...items } = text;
  return { info, items, parameters: parametersDict(info) };
}
