// solc-js over contracts/*.sol, imports resolved from node_modules (OpenZeppelin). Deterministic:
// fixed compiler (the exact solc version in package-lock), optimizer settings and no metadata hash,
// so the same sources give the same bytecode on every machine.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const ROOT = join(import.meta.dirname, '..', '..');
const CONTRACTS = join(ROOT, 'contracts');
export const ARTIFACTS = join(ROOT, 'artifacts');

export interface Artifact {
  contractName: string;
  compiler: string;
  abi: unknown[];
  bytecode: `0x${string}`;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

function findImport(path: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(path), 'utf8') };
  } catch {
    const local = join(CONTRACTS, path);
    return existsSync(local) ? { contents: readFileSync(local, 'utf8') } : { error: `not found: ${path}` };
  }
}

export function compileContracts(): Record<string, Artifact> {
  const solc = require('solc') as { compile(input: string, opts: { import: typeof findImport }): string; version(): string };
  const sources: Record<string, { content: string }> = {};
  for (const f of readdirSync(CONTRACTS).filter((f) => f.endsWith('.sol')).sort()) sources[f] = { content: readFileSync(join(CONTRACTS, f), 'utf8') };
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      viaIR: true,
      evmVersion: 'cancun',
      metadata: { bytecodeHash: 'none', appendCBOR: false },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const artifacts: Record<string, Artifact> = {};
  for (const file of Object.keys(sources)) {
    for (const [name, c] of Object.entries(out.contracts[file] ?? {})) {
      if (c.evm.bytecode.object === '') continue; // interfaces
      artifacts[name] = { contractName: name, compiler: solc.version(), abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
    }
  }
  return artifacts;
}

export function writeArtifacts(artifacts: Record<string, Artifact>): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const [name, a] of Object.entries(artifacts)) writeFileSync(join(ARTIFACTS, `${name}.json`), `${JSON.stringify(a, null, 2)}\n`);
}

export function readArtifacts(): Record<string, Artifact> {
  const out: Record<string, Artifact> = {};
  if (!existsSync(ARTIFACTS)) return out;
  for (const f of readdirSync(ARTIFACTS).filter((f) => f.endsWith('.json'))) out[f.slice(0, -5)] = JSON.parse(readFileSync(join(ARTIFACTS, f), 'utf8')) as Artifact;
  return out;
}

export const artifactsDir = dirname(ARTIFACTS);
