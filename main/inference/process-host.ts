// How the supervisor starts the inference process, kept behind one small interface so that the
// same supervisor drives a Node child process (`npm run serve`, the tests) and an Electron
// utilityProcess (the app). Messages are structured-cloned by both (Uint8Array travels as is).

export interface WorkerExit {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: string | null;
}

export interface WorkerProcess {
  readonly pid: number | undefined;
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the process has gone, whatever the reason. */
  onExit(listener: (exit: WorkerExit) => void): void;
  /** Ends the process hard (SIGKILL where there are signals). */
  kill(): void;
}

export interface ProcessHost {
  /** Starts `entry` (absolute path of main/inference/worker.ts or its built .js). */
  spawn(entry: string, env: Record<string, string>): WorkerProcess;
}

/** Absolute path of the worker entry beside this file (the .ts under tsx, the .js when built). */
export function defaultWorkerEntry(): string {
  const here = new URL('.', import.meta.url);
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`worker.${ext}`, here).pathname;
}
