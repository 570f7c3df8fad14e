// A worker's preview PNG as the contract's job.preview event: a data URL, so both transports (SSE
// and Electron IPC) carry it as they carry every event, and nothing is written to the data folder.
import type { JobPreview } from '../contract/api.ts';
import type { WorkerPreview } from '../inference/protocol.ts';

/** PNG bytes as the data URL the contract's preview pictures carry. */
export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}

export function toPreviewEvent(jobId: string, preview: WorkerPreview): JobPreview {
  return {
    jobId,
    batchIndex: preview.batchIndex,
    width: preview.width,
    height: preview.height,
    image: pngDataUrl(preview.png),
    afterMs: preview.afterMs,
  };
}
