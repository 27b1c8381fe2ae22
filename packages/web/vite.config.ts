// Vite build of the Cascade web app → packages/web/dist (served by packages/http).
//
// Two imports are optional at build time so the app builds whatever else is in the tree:
//   @cascade/chat/ui         → packages/chat/ui/ChatPage.tsx, or a "chat not in this build" stand-in
//   @cascade/engine/browser  → packages/engine/browser.ts,   or a stand-in that reports the
//                               in-browser peer as unavailable
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { pwa } from './scripts/pwa/plugin.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const OPTIONAL: Record<string, { real: string; fallback: string }> = {
  '@cascade/chat/ui': { real: here('../chat/ui/ChatPage.tsx'), fallback: here('src/fallback/chat-page.tsx') },
  '@cascade/engine/browser': { real: here('../engine/browser.ts'), fallback: here('src/fallback/browser-engine.ts') },
};

function optionalModules(): Plugin {
  return {
    name: 'cascade-optional-modules',
    enforce: 'pre',
    resolveId(id) {
      const m = OPTIONAL[id];
      if (!m) return null;
      return existsSync(m.real) ? m.real : m.fallback;
    },
  };
}

// `npm run dev -w @cascade/web`: the API and socket.io come from a running node (CASCADE_URL,
// default http://127.0.0.1:8080). The node refuses cross-origin writes, so the proxy presents
// requests as coming from the node's own origin.
const api = process.env.CASCADE_URL ?? 'http://127.0.0.1:8080';
const asNode = {
  target: api,
  changeOrigin: true,
  configure(proxy: { on(event: string, fn: (req: { setHeader(k: string, v: string): void }) => void): void }) {
    proxy.on('proxyReq', (req) => req.setHeader('origin', api));
    proxy.on('proxyReqWs', (req) => req.setHeader('origin', api));
  },
};

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [optionalModules(), react(), pwa()],
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/api': asNode,
      '/socket.io': { ...asNode, ws: true },
    },
  },
});
