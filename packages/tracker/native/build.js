#!/usr/bin/env node
// Builds udp-mmsg.node, the tracker's batched UDP socket (udp-mmsg.c), with the system's C
// compiler: `node packages/tracker/native/build.js`, also run by `npm install` (the package's
// install script). Linux only. Where it cannot build (another system, no compiler, no Node
// headers) it says so and exits 0: the tracker then answers UDP through node:dgram.
import { join } from 'node:path';
import { buildAddon } from '../../../scripts/build-addon.js';

const here = import.meta.dirname;
buildAddon({
  pkg: '@cascade/tracker',
  source: join(here, 'udp-mmsg.c'),
  out: join(here, 'build', 'udp-mmsg.node'),
  fallback: 'the tracker uses node:dgram',
  headers: ['uv.h'],
});
