// Compiles the Electron shell to plain JS in out/electron: main.js (ESM), preload.cjs (a sandboxed
// preload must be one CommonJS file) and worker.js (the inference utilityProcess). Native modules
// and electron stay external: electron-builder ships them unpacked and rebuilt for Electron's ABI.
import { build } from 'esbuild';

const external = ['electron', 'better-sqlite3', 'onnxruntime-node'];
const common = { bundle: true, platform: 'node', target: 'node22', sourcemap: true, external, logLevel: 'info' };
// ESM bundles that still contain CommonJS dependencies need require().
const banner = { js: "import { createRequire as __yosoRequire } from 'node:module'; const require = __yosoRequire(import.meta.url);" };

await Promise.all([
  build({ ...common, entryPoints: { main: 'main/electron/main.ts', worker: 'main/inference/worker.ts' }, outdir: 'out/electron', format: 'esm', banner }),
  build({ ...common, entryPoints: { preload: 'main/electron/preload.ts' }, outdir: 'out/electron', format: 'cjs', outExtension: { '.js': '.cjs' } }),
]);
