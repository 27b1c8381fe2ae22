#!/usr/bin/env node
// Thin launcher: Node 24 runs the TypeScript sources directly (type stripping).
import { main } from '../src/main.ts';

process.exitCode = await main(process.argv.slice(2));
// Everything was closed; if some handle still lingers (a leaked socket), do not hang forever.
setTimeout(() => process.exit(process.exitCode), 2000).unref();
