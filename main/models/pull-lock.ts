// One process at a time per download: the app, `serve` and the CLI may share a models folder, and
// two writers appending to one part file would corrupt it. The lock is a file holding the owner's
// pid; a lock whose process is gone (crash, kill) is taken over.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { PullError } from './types.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquirePullLock(path: string, what: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new PullError('busy', `${what} is being downloaded by another process (pid ${owner}); wait for it or stop it first`);
    }
    await rm(path, { force: true }); // stale: its process is gone
  }
  throw new PullError('invalid', `cannot lock the download of ${what}`);
}
