/**
 * Vite configuration of the room's page. server.ts runs Vite in middleware mode inside its own HTTPS server (one
 * origin for the page, the signalling and the WebSocket), so nothing here listens. `vite build --config` this file
 * writes the page to dist/webxr-room; it still expects the room server on the origin that serves it.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  // Top-level await in client.ts (emulation is decided before three's XR button looks for navigator.xr).
  build: {
    target: 'es2022',
    outDir: fileURLToPath(new URL('../../dist/webxr-room', import.meta.url)),
    emptyOutDir: true,
    // three.js and IWER make one ~1.5 MB chunk; splitting it gains nothing for a demo page.
    chunkSizeWarningLimit: 2000,
  },
  optimizeDeps: {
    // Named up front so the first page load never finds a new dependency and reloads (two users would race).
    entries: ['index.html'],
    include: [
      'three',
      'three/addons/webxr/VRButton.js',
      'iwer',
      '@geckos.io/client',
      'bitecs',
      '@msgpack/msgpack',
      'fflate',
      'tweetnacl',
    ],
  },
  logLevel: 'warn',
  clearScreen: false,
});
