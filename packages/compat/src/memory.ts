// Where the adapters keep what they remember beside the node's settings (ops.ts, CompatMemory):
// the node's state when it gives one (a cluster's members then answer alike), else this process.

import type { CompatMemory, CompatOps } from './ops.ts';

/** Records in this process only, as JSON so a caller never shares an object with the store. */
class ProcessMemory implements CompatMemory {
  readonly #records = new Map<string, string>();

  async get(api: string, name: string): Promise<unknown> {
    const v = this.#records.get(`${api}\n${name}`);
    return v === undefined ? undefined : (JSON.parse(v) as unknown);
  }

  async list(api: string, prefix: string): Promise<[string, unknown][]> {
    const out: [string, unknown][] = [];
    for (const [k, v] of this.#records) {
      const [a, name] = [k.slice(0, k.indexOf('\n')), k.slice(k.indexOf('\n') + 1)];
      if (a === api && name.startsWith(prefix)) out.push([name, JSON.parse(v) as unknown]);
    }
    return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async set(api: string, name: string, value: unknown): Promise<void> {
    this.#records.set(`${api}\n${name}`, JSON.stringify(value));
  }

  async delete(api: string, name: string): Promise<void> {
    this.#records.delete(`${api}\n${name}`);
  }
}

const processMemories = new WeakMap<CompatOps, CompatMemory>();

/** The node's memory for its adapters (one per node: Transmission's and qBittorrent's share it). */
export function memoryOf(ops: CompatOps): CompatMemory {
  if (ops.memory) return ops.memory;
  let m = processMemories.get(ops);
  if (!m) processMemories.set(ops, (m = new ProcessMemory()));
  return m;
}
