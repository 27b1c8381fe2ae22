// Vite plugin: makes the build an installable app. It adds to dist the manifest
// (manifest.webmanifest), the icons (drawn here, scripts/pwa/icons.ts) and the service worker
// (sw.js, from src/sw/service-worker.ts with this build's file list and version filled in), and puts
// the manifest and icon links in index.html. Build only: `vite` (dev) has no service worker, so hot
// reload is never answered from a cache.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformWithOxc, type Plugin } from 'vite';
import { iconFiles } from './icons.ts';
import { webManifest } from './manifest.ts';

const SW_SOURCE = fileURLToPath(new URL('../../src/sw/service-worker.ts', import.meta.url));
export const MANIFEST_FILE = 'manifest.webmanifest';
export const SW_FILE = 'sw.js';

export function pwa(): Plugin {
  return {
    name: 'cascade-pwa',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [
        { tag: 'link', attrs: { rel: 'manifest', href: `./${MANIFEST_FILE}` }, injectTo: 'head' },
        { tag: 'link', attrs: { rel: 'apple-touch-icon', href: './icons/apple-touch-icon.png' }, injectTo: 'head' },
      ],
    },
    generateBundle: {
      order: 'post',
      async handler(_options, bundle) {
        const manifest = `${JSON.stringify(webManifest(), null, 2)}\n`;
        this.emitFile({ type: 'asset', fileName: MANIFEST_FILE, source: manifest });
        const icons = iconFiles();
        for (const icon of icons) this.emitFile({ type: 'asset', fileName: icon.fileName, source: icon.source });

        // The shell: the page (by the app's root: the node answers it with index.html), the
        // bundle's files (not the source maps: only DevTools asks for those), icons, manifest.
        const assets = Object.keys(bundle).filter((f) => f.startsWith('assets/') && !f.endsWith('.map')).sort();
        const precache = ['', ...assets, MANIFEST_FILE, ...icons.map((i) => i.fileName)];
        const source = readFileSync(SW_SOURCE, 'utf8');
        // The version changes with anything the shell is made of, so a new build's worker replaces
        // the old one and clears its cache. Hashed names cover the bundle; index.html is hashed too.
        const html = bundle['index.html'];
        const version = createHash('sha256')
          .update(JSON.stringify(precache))
          .update(source)
          .update(manifest)
          .update(html && html.type === 'asset' ? html.source : '')
          .digest('hex')
          .slice(0, 16);
        const js = (await transformWithOxc(source, SW_SOURCE, { lang: 'ts' })).code
          .replace('__PRECACHE__', JSON.stringify(precache))
          .replace('__VERSION__', JSON.stringify(version));
        if (js.includes('__PRECACHE__') || js.includes('__VERSION__')) throw new Error('cascade-pwa: the service worker names its build constants more than once');
        this.emitFile({ type: 'asset', fileName: SW_FILE, source: `// Cascade's service worker, build ${version} (source: packages/web/src/sw/service-worker.ts)\n${js}` });
      },
    },
  };
}
