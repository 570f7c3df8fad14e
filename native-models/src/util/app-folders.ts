// Where the app keeps its files, shared by the CLIs in native-models and the app in main/, so that
// `npm run generate` finds the models (and the cached CLIP tokenizer) that the studio downloaded.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const PRODUCT_NAME = 'YOSO Studio';
export const DATA_ENV = 'YOSO_STUDIO_DATA';
export const MODELS_ENV = 'YOSO_MODELS_DIR';

/** Electron's appData folder joined with the product name, as app.getPath('userData') gives it. */
export function platformDefaultDataFolder(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', PRODUCT_NAME);
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), PRODUCT_NAME);
}

/**
 * The one rule for the models folder when no --models is given: YOSO_MODELS_DIR, else
 * `<data folder>/models`. The app, serve, `npm run models` and the native CLIs all use it.
 */
export function modelsDirFor(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[MODELS_ENV] ? resolve(env[MODELS_ENV]!) : resolve(dataDir, 'models');
}

/** modelsDirFor the data folder the CLIs default to (YOSO_STUDIO_DATA, else the app's own). */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const data = env[DATA_ENV] ? resolve(env[DATA_ENV]!) : platformDefaultDataFolder(process.platform, env, homedir());
  return modelsDirFor(data, env);
}
