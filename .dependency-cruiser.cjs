// The package graph's rules (issue 41), checked in `npm test` (test/docs/dependency-rules.test.ts)
// and by `node scripts/check-dependencies.ts`, which runs this and .dependency-cruiser-declared.cjs
// (every imported package declared):
//   npx depcruise packages --config .dependency-cruiser.cjs --ignore-known
// Violations that existed when a rule came in are listed in .dependency-cruiser-known-violations.json
// (`npx depcruise-baseline packages --config .dependency-cruiser.cjs` rewrites it): the check fails
// on any new one, and the list only ever shrinks.
const SRC = '(?!test/)'; // a package's own code, not its tests
// Packages above the node that are not its doors (issue 64): each takes the node's public entry points
// (or interfaces of its own that the node satisfies), the HTTP face (and the CLI) wire it in, the node imports none.
const ABOVE_NODE = ['rss', 'rewards', 'cluster', 'node-network', 'node-assistant', 'private-node', 'content-node', 'market'].join('|');
module.exports = {
  forbidden: [
    {
      name: 'no-relative-import-across-packages',
      comment: 'Another package is reached by its name (@cascade/x and its exports), never by a relative path into it. Tests may share another package\'s test helpers.',
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { dependencyTypes: ['local'], path: '^packages/', pathNot: ['^packages/$1/', '^packages/[^/]+/test/'] },
    },
    {
      name: 'no-relative-import-into-test-helpers-from-code',
      comment: 'Code never imports another package\'s tests.',
      severity: 'error',
      from: { path: `^packages/([^/]+)/${SRC}` },
      to: { path: '^packages/[^/]+/test/', pathNot: '^packages/$1/' },
    },
    {
      name: 'no-cycle',
      comment: 'No import circle, type imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-core-without-node',
      comment: 'The engine\'s platform-free core (src/ outside src/node/) runs in the browser: no node:* import.',
      severity: 'error',
      from: { path: '^packages/engine/src/(?!node/)' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'engine-core-never-reaches-node-code',
      comment: 'Nor through another file: the core never reaches the Node adapters (src/node/), whose files import node:*.',
      severity: 'error',
      from: { path: '^packages/engine/src/(?!node/)' },
      to: { path: '^packages/engine/src/node/', reachable: true },
    },
    {
      name: 'engine-and-identity-import-no-package-of-ours',
      comment: 'The bottom of the graph: the engine and identity import none of our other packages but @cascade/shapes (types only).',
      severity: 'error',
      from: { path: `^packages/(engine|identity)/${SRC}` },
      to: { path: '^packages/', pathNot: ['^packages/$1/', '^packages/shapes/'] },
    },
    {
      name: 'shapes-import-nothing',
      comment: '@cascade/shapes is types only, under everything: it imports none of our packages, no npm package and no node:* (TypeScript\'s built-in types only).',
      severity: 'error',
      from: { path: '^packages/shapes/' },
      to: { pathNot: '^packages/shapes/' },
    },
    {
      name: 'features-do-not-import-the-node',
      comment: 'Feature packages sit below the node: none imports @cascade/node, a package above it, @cascade/http or the CLI.',
      severity: 'error',
      from: { path: `^packages/(?!(?:node|http|cli|${ABOVE_NODE})/)[^/]+/${SRC}` },
      to: { path: `^packages/(node|http|cli|${ABOVE_NODE})/` },
    },
    {
      name: 'the-node-does-not-import-what-sits-above-it',
      comment: 'The node knows nothing of the packages above it (ABOVE_NODE): they are wired in by the HTTP face (and the CLI).',
      severity: 'error',
      from: { path: `^packages/node/${SRC}` },
      to: { path: `^packages/(${ABOVE_NODE})/` },
    },
    {
      name: 'above-the-node-not-its-doors',
      comment: 'A package above the node is below its doors: it imports neither @cascade/http nor the CLI.',
      severity: 'error',
      from: { path: `^packages/(${ABOVE_NODE})/${SRC}` },
      to: { path: '^packages/(http|cli)/' },
    },
    {
      name: 'the-node-does-not-import-http-or-cli',
      comment: 'The node knows nothing of its HTTP face or of the command line.',
      severity: 'error',
      from: { path: `^packages/node/${SRC}` },
      to: { path: '^packages/(http|cli)/' },
    },
    {
      name: 'http-does-not-import-the-cli',
      severity: 'error',
      from: { path: `^packages/http/${SRC}` },
      to: { path: '^packages/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '/dist/'] },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'], extensions: ['.ts', '.tsx', '.js'] },
  },
};
