// The second pass of the package graph's check (scripts/check-dependencies.ts): every package a
// file imports is declared in the package.json nearest to it. Workspace packages are resolved
// through their node_modules link here (preserveSymlinks), so dependency-cruiser sees
// `@cascade/x` as a package and can tell declared from undeclared; the main pass
// (.dependency-cruiser.cjs) resolves them to packages/x to follow the graph across packages.
const main = require('./.dependency-cruiser.cjs');
module.exports = {
  forbidden: [
    {
      name: 'no-undeclared-dependency',
      comment: 'Every package a file imports is declared in its package.json (dependencies; devDependencies serve tests).',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown', 'unknown'] },
    },
    {
      name: 'code-uses-no-dev-dependency',
      comment: 'A package\'s own code imports only its dependencies: a devDependency is there for its tests.',
      severity: 'error',
      from: { path: '^packages/[^/]+/(?!test/)' , pathNot: '^packages/[^/]+/(scripts|lab)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  // node_modules is not excluded here (only not followed): a workspace package resolves into it.
  options: { ...main.options, exclude: { path: ['/dist/'] }, preserveSymlinks: true },
};
