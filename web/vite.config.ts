import path from 'node:path';
import { defineConfig } from 'vite';

// The web room: built into dist/web, which the server serves at `/`. The SDK comes from the
// sources (src/client) through the package's own name, as an app using the package imports it.
const root = path.dirname(new URL(import.meta.url).pathname);

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  cacheDir: path.resolve(root, '../dist/.vite-cache'),
  resolve: { alias: { 'pantheon/client': path.resolve(root, '../src/client/index.ts') } },
  build: {
    outDir: path.resolve(root, '../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://localhost:3000', '/socket.io': { target: 'ws://localhost:3000', ws: true } } },
});
