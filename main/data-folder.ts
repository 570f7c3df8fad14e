// Where the app keeps everything it writes (images, thumbnails, the history database).
// Precedence: `--data DIR` on the command line, then YOSO_STUDIO_DATA, then Electron's userData
// (passed in by the Electron main process), then the same folder Electron would pick.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const PRODUCT_NAME = 'YOSO Studio';
export const DATA_ENV = 'YOSO_STUDIO_DATA';

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

/** Electron's appData folder joined with the product name, as app.getPath('userData') gives it. */
export function platformDefaultDataFolder(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', PRODUCT_NAME);
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), PRODUCT_NAME);
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
