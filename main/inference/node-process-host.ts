// The inference process under `npm run serve` and in tests: a Node child process started with
// tsx's loader (so the worker runs from the TypeScript sources, like the rest of `serve`).
import { fork } from 'node:child_process';
import type { ProcessHost, WorkerExit, WorkerProcess } from './process-host.ts';

export class NodeProcessHost implements ProcessHost {
  spawn(entry: string, env: Record<string, string>): WorkerProcess {
    const tsxLoader = import.meta.resolve('tsx');
    const child = fork(entry, [], {
      // --expose-gc: model loads free their copied buffers at once (native-models/src/util/collect-garbage.ts).
      execArgv: ['--expose-gc', ...(entry.endsWith('.ts') ? ['--import', tsxLoader] : [])],
      env: { ...process.env, ...env },
      // 'advanced' = structured clone: PNG bytes cross as Uint8Array instead of JSON arrays.
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let exited = false;
    const exitListeners: ((exit: WorkerExit) => void)[] = [];
    const finish = (exit: WorkerExit) => {
      if (exited) return;
      exited = true;
      for (const listener of exitListeners) listener(exit);
    };
    child.on('exit', (code, signal) => finish({ code, signal }));
    child.on('error', () => finish({ code: null, signal: null }));
    return {
      pid: child.pid,
      send: (message) => {
        if (!exited && child.connected) child.send(message as never);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => exitListeners.push(listener),
      kill: () => {
        if (!exited) child.kill('SIGKILL');
      },
    };
  }
}
