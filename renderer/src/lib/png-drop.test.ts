import { describe, expect, it } from 'vitest';
import { classifyDrop, fileToBase64, HISTORY_DRAG_TYPE } from './png-drop.ts';

function transfer(setup: (d: DataTransfer) => void): DataTransfer {
  const data = new DataTransfer();
  setup(data);
  return data;
}

describe('classifyDrop', () => {
  it('recognises an image dragged from the gallery, a PNG file, and anything else', () => {
    expect(classifyDrop(transfer((d) => d.setData(HISTORY_DRAG_TYPE, 'h1')))).toEqual({ kind: 'history', id: 'h1' });
    const png = new File([new Uint8Array([137, 80, 78, 71])], 'a1111.png', { type: 'image/png' });
    expect(classifyDrop(transfer((d) => d.items.add(png)))).toMatchObject({ kind: 'png', file: { name: 'a1111.png' } });
    const jpeg = new File([new Uint8Array([1])], 'photo.jpg', { type: 'image/jpeg' });
    expect(classifyDrop(transfer((d) => d.items.add(jpeg)))).toMatchObject({ kind: 'none', reason: /photo.jpg is not a PNG/ });
    expect(classifyDrop(null)).toMatchObject({ kind: 'none' });
  });

  it('encodes files to base64 for the contract', async () => {
    expect(await fileToBase64(new Blob([new Uint8Array([137, 80, 78, 71, 0, 255])]))).toBe('iVBORwD/');
  });
});
