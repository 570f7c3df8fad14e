/// <reference types="vitest/config" />
// Builds the renderer into renderer/dist (served by `npm run serve` over HTTP and by the Electron shell
// through its app protocol) and runs the renderer's unit tests (vitest, happy-dom).
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const serveOrigin = process.env.YOSO_SERVE_URL ?? 'http://127.0.0.1:7860';

export default defineConfig({
  root,
  // Relative asset URLs: the same build loads from http://127.0.0.1:port/ and from yoso-app://app/.
  base: './',
  plugins: [
    svelte(),
    {
      // The dev server injects CSS as <style> elements; the built app never does.
      name: 'dev-only-inline-styles',
      apply: 'serve',
      transformIndexHtml: (html) => html.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
    },
  ],
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline <script>/<style>: the page's CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    // `vite` dev server for UI work: commands and files go to a running `npm run serve`.
    // serve refuses cross-origin writes; the proxied requests drop the dev page's Origin header.
    proxy: Object.fromEntries(
      ['/api', '/files'].map((path) => [
        path,
        { target: serveOrigin, configure: (proxy) => proxy.on('proxyReq', (request) => request.removeHeader('origin')) },
      ]),
    ),
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    root,
  },
});
