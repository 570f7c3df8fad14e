// The inference process in the desktop app: an Electron utilityProcess (a Node process that
// Electron manages, with its crash reporting). Untested here: the Electron binary cannot run in
// CI; the supervisor behaviour it plugs into is tested with NodeProcessHost.
import type { ProcessHost, WorkerExit, WorkerProcess } from './process-host.ts';

/** The part of Electron's `utilityProcess` module this host needs (passed in: no electron import here). */
export interface UtilityProcessModule {
  fork(
    modulePath: string,
    args?: string[],
    options?: { env?: Record<string, string | undefined>; serviceName?: string; stdio?: 'inherit' | 'pipe' | 'ignore'; execArgv?: string[] },
  ): {
    pid: number | undefined;
    postMessage(message: unknown): void;
    on(event: 'message', listener: (message: unknown) => void): void;
    on(event: 'exit', listener: (code: number) => void): void;
    kill(): boolean;
  };
}

export class ElectronProcessHost implements ProcessHost {
  constructor(private readonly utilityProcess: UtilityProcessModule) {}

  spawn(entry: string, env: Record<string, string>): WorkerProcess {
    const child = this.utilityProcess.fork(entry, [], {
      env: { ...process.env, ...env },
      serviceName: 'YOSO Studio inference',
      // Model loads free their copied buffers at once (native-models/src/util/collect-garbage.ts).
      execArgv: ['--expose-gc'],
      stdio: 'inherit',
    });
    let exited = false;
    const exitListeners: ((exit: WorkerExit) => void)[] = [];
    child.on('exit', (code: number) => {
      if (exited) return;
      exited = true;
      for (const listener of exitListeners) listener({ code, signal: null });
    });
    return {
      pid: child.pid,
      send: (message) => {
        if (!exited) child.postMessage(message);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => exitListeners.push(listener),
      kill: () => {
        if (!exited) child.kill();
      },
    };
  }
}
