// BEP 14 local service discovery for the node: on for `cascade serve` (the `lsd` setting, on by
// default as in libtorrent; `serve --no-lsd` turns it off for one run), off for the one-shot `seed`
// and `download` unless given `--lsd`, off for every other embedder.
//
// CASCADE_LSD (on|off) overrides all of that: `npm test` and the benchmarks set it to "off", so that
// no test's or benchmark's node ever multicasts onto this machine's real LAN; the tests that build
// their own namespaces set it to "on" inside them. CASCADE_LSD_INTERVAL_MS shortens the interval
// between a torrent's announces (5 minutes) for those tests.

export const LSD_ENV = 'CASCADE_LSD';
export const LSD_INTERVAL_ENV = 'CASCADE_LSD_INTERVAL_MS';

/** NodeOptions.lsd: follow the setting (serve), or on / off for this run whatever it says. */
export type LsdMode = 'setting' | 'on' | 'off';

interface NodeLike {
  session: {
    setLocalDiscovery?(on: boolean, opts?: { intervalMs?: number | undefined }): Promise<void>;
    localDiscovery?(): { enabled: boolean; families: (4 | 6)[]; error: string | null };
  };
  model: {
    getSettings(): { lsd: boolean };
    settings: { onChange(fn: (next: unknown, prev: unknown, changed: string[]) => void): void };
  };
  out?: { note(line: string): void; say(line: string): void; event(name: string, fields?: Record<string, unknown>): void };
}

/** Whether LSD runs: the environment's override when valid, else the mode (and the setting). */
export function effectiveLsd(mode: LsdMode | undefined, setting: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const forced = env[LSD_ENV]?.trim().toLowerCase();
  if (forced === 'on' || forced === 'off') return forced === 'on';
  // As for port mapping: a node started (however indirectly) by `node --test` without an explicit
  // CASCADE_LSD stays off the LAN, even when the test file was run on its own.
  if (env.NODE_TEST_CONTEXT) return false;
  if (mode === 'on' || mode === 'off') return mode === 'on';
  return mode === 'setting' && setting;
}

function intervalOf(env: NodeJS.ProcessEnv): number | undefined {
  const n = Number(env[LSD_INTERVAL_ENV]);
  return Number.isInteger(n) && n >= 100 ? n : undefined;
}

/** Switches the session's LSD as the mode, the setting and the environment say, now and whenever
 *  the setting changes; prints where it runs. */
export async function followLsd(node: NodeLike, mode: LsdMode | undefined, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const set = node.session.setLocalDiscovery?.bind(node.session);
  if (!set) return;
  const intervalMs = intervalOf(env);
  let on = false;
  const apply = async (next: boolean) => {
    if (next === on) return;
    on = next;
    await set(next, { intervalMs });
    const s = node.session.localDiscovery?.();
    node.out?.event('lsd', { enabled: s?.enabled ?? next, families: s?.families ?? [], error: s?.error ?? null });
    if (s?.enabled) node.out?.say(`local service discovery on (IPv${s.families.join(' and IPv')}, UDP port 6771)`);
    if (s?.error) node.out?.note(`local service discovery: ${s.error}`);
  };
  await apply(effectiveLsd(mode, node.model.getSettings().lsd, env));
  node.model.settings.onChange((_n, _p, changed) => {
    if (changed.includes('lsd')) void apply(effectiveLsd(mode, node.model.getSettings().lsd, env));
  });
}
