// Ends a long-running command (serve) step by step: every step runs even when one before it
// fails, a failure is printed as one line (never an unhandled rejection), and a step that hangs
// cannot keep the process alive past the deadline.

export interface ShutdownStep {
  /** What the step closes, for the message ("the HTTP server"). */
  name: string;
  run(): Promise<void>;
}

export interface ShutdownOptions {
  /** Past this, the remaining steps are given up on (default 10 s). */
  deadlineMs?: number;
  log?: (line: string) => void;
}

/** Runs the steps in order; resolves with the exit code: 0 when all closed, 1 otherwise. */
export async function runShutdown(steps: readonly ShutdownStep[], options: ShutdownOptions = {}): Promise<number> {
  const log = options.log ?? ((line: string) => console.error(line));
  const deadlineMs = options.deadlineMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs);
  });
  let code = 0;
  try {
    for (const step of steps) {
      try {
        const outcome = await Promise.race([step.run().then(() => 'closed' as const), deadline]);
        if (outcome === 'late') {
          log(`shutdown: closing ${step.name} took longer than ${deadlineMs} ms; exiting without waiting`);
          return 1;
        }
      } catch (error) {
        log(`shutdown: closing ${step.name} failed: ${error instanceof Error ? error.message : String(error)}`);
        code = 1;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return code;
}
