// solc's command line as forge drives it (`--version`, `--standard-json` on stdin), over solc-js:
// the compiler in the npm package, so `forge test` compiles offline with the artifacts' compiler.
const solc = require('solc');
const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('this solc speaks --version and --standard-json only\n');
  process.exit(1);
}
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
// Sources forge did not put in the input (relative imports inside a library) are read from disk
// where native solc would look: the working directory, --base-path and each --include-path.
const fs = require('node:fs');
const path = require('node:path');
const roots = [process.cwd()];
for (let i = 0; i < args.length - 1; i++) if (args[i] === '--base-path' || args[i] === '--include-path') roots.push(path.resolve(args[i + 1]));
function findImport(p) {
  for (const r of roots) {
    const full = path.resolve(r, p);
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, 'utf8') };
  }
  return { error: `not found: ${p}` };
}
process.stdin.on('end', () => process.stdout.write(solc.compile(Buffer.concat(chunks).toString('utf8'), { import: findImport })));
