// Dropping an image on the window: ours (dragged from the gallery) or any PNG from disk (A1111,
// ComfyUI, ours saved elsewhere), whose parameters the main side reads from the PNG text chunks.
export const HISTORY_DRAG_TYPE = 'application/x-yoso-history-id';

export type DropSource = { kind: 'history'; id: string } | { kind: 'png'; file: File } | { kind: 'none'; reason: string };

export function classifyDrop(data: DataTransfer | null): DropSource {
  if (!data) return { kind: 'none', reason: 'Nothing was dropped' };
  const id = data.getData(HISTORY_DRAG_TYPE);
  if (id) return { kind: 'history', id };
  const file = data.files[0];
  if (!file) return { kind: 'none', reason: 'Drop a PNG file or an image from the gallery' };
  if (file.type !== 'image/png' && !file.name.toLowerCase().endsWith('.png')) {
    return { kind: 'none', reason: `${file.name} is not a PNG; only PNG files carry generation parameters` };
  }
  return { kind: 'png', file };
}

export async function fileToBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}
