// Compiles contracts/*.sol with solc-js (offline: the compiler ships in the npm package) into
// artifacts/<Name>.json (abi, bytecode). `--check` compiles in memory and exits 1 if the checked-in
// artifacts differ (a contract changed without `npm run compile -w @cascade/chain`).
import { compileContracts, readArtifacts, writeArtifacts } from '../src/contracts/compile.ts';

const built = compileContracts();
if (process.argv.includes('--check')) {
  const stored = readArtifacts();
  const drifted = Object.keys(built).filter((name) => JSON.stringify(built[name]) !== JSON.stringify(stored[name]));
  if (drifted.length > 0) {
    console.error(`artifacts out of date: ${drifted.join(', ')} (run npm run compile -w @cascade/chain)`);
    process.exit(1);
  }
  console.log(`artifacts match the sources (${Object.keys(built).length} contracts)`);
} else {
  writeArtifacts(built);
  console.log(`wrote ${Object.keys(built).map((n) => `artifacts/${n}.json`).join(', ')}`);
}
