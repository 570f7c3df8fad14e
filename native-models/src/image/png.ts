/** RGB uint8 -> PNG bytes (fast-png), with optional tEXt chunks (e.g. A1111 "parameters"). */
import { encode } from 'fast-png';

export interface RgbImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

export function encodePng(image: RgbImage, text?: Record<string, string>): Uint8Array {
  if (image.rgb.length !== image.width * image.height * 3) {
    throw new Error(`image data has ${image.rgb.length} bytes; expected ${image.width}x${image.height}x3`);
  }
  return encode({
    width: image.width,
    height: image.height,
    data: image.rgb,
    channels: 3,
    depth: 8,
    ...(text && Object.keys(text).length > 0 ? { text } : {}),
  });
}
