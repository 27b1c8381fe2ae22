#!/usr/bin/env node
// Builds chunk-gcm.node, AES-256-GCM for a share's chunks into memory the caller gives
// (chunk-gcm.c), with the system's C compiler: `node packages/private-shares/native/build.js`, also
// run by `npm install` (the package's install script). Linux only. Where it cannot build it says
// so and exits 0: the chunks are then sealed and opened with node:crypto (src/node/chunk-gcm.ts).
import { join } from 'node:path';
import { buildAddon } from '../../../scripts/build-addon.js';

const here = import.meta.dirname;
buildAddon({
  pkg: '@cascade/private-shares',
  source: join(here, 'chunk-gcm.c'),
  out: join(here, 'build', 'chunk-gcm.node'),
  fallback: 'the chunks are sealed and opened with node:crypto',
  // Every symbol bound at load: a node without OpenSSL's EVP calls fails to load the file (and the
  // loader falls back) rather than failing at the first chunk.
  ldflags: ['-Wl,-z,now'],
});
