// Module resolution shortcuts for every `cascade` process, registered once when this module is first
// imported: by the launcher (bin/cascade.js) before it loads main.ts, and by main.ts's first import,
// so a CLI started as `node main.ts` (the tests' nodes and one-shot verbs, the benches) resolves the
// modules of its command — nearly all it loads, each imported when the command runs — the same way.
//
// A `cascade download` loads some 300 modules before its first dial, and Node's resolver spent
// ~0.07 ms on each of its relative imports (a stat and a realpath per import, for files the loader
// reads right after): ~0.05-0.07 CPU-s of a 0.5 CPU-s start (issues 40, 64). An ESM import of a
// relative `.ts`/`.js` path from a file: module is its URL against the importer's, which the loader
// already gave as a real path; nothing in Cascade's sources is a symlink, and the workspace links
// (node_modules/@cascade/*) are bare specifiers, left to Node. A missing file then fails when it is
// read (ENOENT) rather than when it is resolved (ERR_MODULE_NOT_FOUND).
// A `.ts` file of ours is also given its format: every package here is "type": "module", and
// without the hint the loader looked up the package scope of each file it loaded (~7 ms of the
// ~100 ms a download's modules take to load, issue 40). Inside a node_modules (cascade installed
// as a dependency, or a dependency's own .ts) Node decides, as before.
// A workspace package's name (`@cascade/engine`, `@cascade/node-state/store`) is resolved by Node once
// and then remembered: a download imports 89 of them, 24 distinct, and Node's resolver spent ~0.4 ms
// on each (the package's exports, then the realpath of its node_modules link), 30-50 ms of its start.
// Remembered only for importers among this checkout's own packages (not inside a node_modules), which
// all see the same hoisted node_modules/@cascade links: npm workspaces nest none.
import module from 'node:module';

const PACKAGES = new URL('../../../', import.meta.url).href;
const workspaceResolved = new Map<string, { url: string; format?: string | null | undefined }>();

module.registerHooks({
  resolve(specifier, context, nextResolve) {
    if (
      specifier.charCodeAt(0) === 46 /* . */ &&
      (specifier.endsWith('.ts') || specifier.endsWith('.js')) &&
      context.parentURL?.startsWith('file:') &&
      !context.conditions?.includes('require')
    ) {
      const url = new URL(specifier, context.parentURL).href;
      return url.endsWith('.ts') && !url.includes('/node_modules/') ? { url, format: 'module-typescript', shortCircuit: true } : { url, shortCircuit: true };
    }
    if (specifier.startsWith('@cascade/') && context.parentURL?.startsWith(PACKAGES) && !context.parentURL.includes('/node_modules/') && !context.conditions?.includes('require')) {
      const known = workspaceResolved.get(specifier);
      if (known) return { ...known, shortCircuit: true };
      const resolved = nextResolve(specifier, context);
      workspaceResolved.set(specifier, { url: resolved.url, format: resolved.format });
      return resolved;
    }
    return nextResolve(specifier, context);
  },
});
