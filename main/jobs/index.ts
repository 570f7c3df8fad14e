// The job queue's public face for the server, the app and the A1111 API.
export { JobQueue, JobNotFoundError, JobConflictError, type JobRunner, type JobContext, type JobOrigin } from './queue.ts';
export { expandRequests, parsePromptList } from './expand.ts';
export { createGenerationRunner, type GenerationRunnerDeps, type ResolvedJobModels } from './generation-runner.ts';
export { enqueueAndWait, AbandonedBeforeQueuedError, type FinishedJobs, type EnqueueAndWaitOptions } from './enqueue-and-wait.ts';
