// Where the app keeps everything it writes (images, thumbnails, the history database).
// Precedence: `--data DIR` on the command line, then YOSO_STUDIO_DATA, then Electron's userData
// (passed in by the Electron main process), then the same folder Electron would pick.
import { homedir } from 'node:os';
import { resolve } from 'node:path';

import { DATA_ENV, platformDefaultDataFolder } from '../native-models/src/util/app-folders.ts';

export { DATA_ENV, PRODUCT_NAME, platformDefaultDataFolder, modelsDirFor } from '../native-models/src/util/app-folders.ts';

export interface DataFolderSources {
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** app.getPath('userData') when running inside Electron. */
  electronUserData?: string;
  platform?: NodeJS.Platform;
  home?: string;
}

export interface ResolvedDataFolder {
  path: string;
  from: 'argument' | 'environment' | 'electron' | 'platform-default';
}

/** Value of `--data DIR` or `--data=DIR`; throws when the flag has no value. */
export function dataArgument(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--data=')) return nonEmpty(arg.slice('--data='.length));
    if (arg === '--data') return nonEmpty(argv[i + 1]);
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string {
  if (!value || value.startsWith('--')) throw new Error('--data needs a folder path, e.g. --data ~/yoso-data');
  return value;
}

export function resolveDataFolder(sources: DataFolderSources = {}): ResolvedDataFolder {
  const env = sources.env ?? process.env;
  const fromArg = dataArgument(sources.argv ?? process.argv.slice(2));
  if (fromArg) return { path: resolve(fromArg), from: 'argument' };
  if (env[DATA_ENV]) return { path: resolve(env[DATA_ENV]!), from: 'environment' };
  if (sources.electronUserData) return { path: resolve(sources.electronUserData), from: 'electron' };
  const path = platformDefaultDataFolder(sources.platform ?? process.platform, env, sources.home ?? homedir());
  return { path, from: 'platform-default' };
}
