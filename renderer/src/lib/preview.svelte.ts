// The quick preview on the Create view: a job.preview picture is shown at once, and gives way to the
// full image when that image is saved (history.added of the same job and batch index), or when its
// job ends without one (failed, cancelled). Previews are never kept: the gallery has full images only.
import type { ApiClient, HistoryItem, Job, JobPreview } from '../../../main/contract/api.ts';

export class PreviewStore {
  /** The preview being shown, until its full image arrives. */
  current = $state<JobPreview | null>(null);

  readonly #stops: Array<() => void>;

  constructor(api: ApiClient) {
    this.#stops = [
      api.on('job.preview', (preview) => (this.current = preview)),
      api.on('job.updated', (job) => this.#jobChanged(job)),
    ];
  }

  /** Called with each saved image: the full image replaces its own preview. */
  imageSaved(item: HistoryItem): void {
    if (this.current?.jobId === item.batchId && this.current.batchIndex === item.batchIndex) this.current = null;
  }

  dispose(): void {
    this.#stops.forEach((stop) => stop());
  }

  #jobChanged(job: Job): void {
    if (this.current?.jobId === job.id && job.state !== 'running' && job.state !== 'queued') this.current = null;
  }
}
