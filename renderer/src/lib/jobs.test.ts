import { describe, expect, it } from 'vitest';
import { jobFactory, requestFactory } from '../test/factories.ts';
import { MemoryClient } from '../test/memory-client.ts';
import { JobsStore, jobFraction } from './jobs.svelte.ts';

describe('JobsStore', () => {
  it('follows job.updated events after the first list', async () => {
    const queued = jobFactory({ id: 'j1' });
    const api = new MemoryClient().handle('jobs.list', () => [queued]);
    const jobs = new JobsStore(api);
    await jobs.load();
    expect(jobs.pending).toHaveLength(1);
    api.emit('job.updated', { ...queued, state: 'running', progress: { stage: 'denoise', step: 1, steps: 4 } });
    expect(jobs.running?.id).toBe('j1');
    expect(jobFraction(jobs.running!)).toBe(0.25);
    api.emit('job.updated', { ...queued, state: 'failed', error: 'out of memory' });
    expect(jobs.pending).toHaveLength(0);
    expect(jobs.lastFailure?.error).toBe('out of memory');
  });

  it('sends the batch count with the request', async () => {
    const api = new MemoryClient().handle('generate.enqueue', ({ count }) => ({ jobIds: Array.from({ length: count }, (_, i) => `j${i}`) }));
    const jobs = new JobsStore(api);
    expect(await jobs.enqueue(requestFactory(), 3)).toEqual(['j0', 'j1', 'j2']);
    expect(api.callsOf('generate.enqueue')[0]).toMatchObject({ count: 3 });
  });
});
