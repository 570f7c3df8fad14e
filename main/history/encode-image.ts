// The two PNGs the history keeps of a generated image, the full image (without its metadata,
// which the store adds at save time) and its thumbnail. The inference process calls this on its
// own thread, so the filtering, deflate set-up and downscale stay off the main event loop; the
// store calls it for images given as pixels (tests, imports).
import { encodePngAsync } from '../../native-models/src/image/png.ts';
import { THUMBNAIL_SIDE } from './layout.ts';
import { downscale, type Rgb8Image } from './pixels.ts';
import type { EncodedImage } from './types.ts';

export function encodeThumbnail(image: Rgb8Image): Promise<Uint8Array> {
  return encodePngAsync(downscale(image, THUMBNAIL_SIDE));
}

export async function encodeForHistory(image: Rgb8Image): Promise<EncodedImage> {
  const [png, thumbnailPng] = await Promise.all([encodePngAsync(image), encodeThumbnail(image)]);
  return { png, thumbnailPng };
}
