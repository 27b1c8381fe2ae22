// The node's settings: one typed object, stored key by key (JSON) in the state's settings table.
// A key never stored has its default. Changes are validated as a whole before anything is written,
// then written in one transaction and announced to listeners (the engine's limits, the queue…).
// The Store is the truth and this object a view of it kept in memory: read once when the node
// starts (readStoredSettings), then changed only after the Store took the change, so the many
// synchronous readers (the queue's tick, the listing) never wait for a database.

import { isIP } from 'node:net';
import type { Store } from '@cascade/node-state/store';
import { iceServersSetting } from './ice-servers.ts';
import type { AltSpeedSchedule, PortMappingSetting, SeedingLimitAction, Settings } from '@cascade/shapes';
import { bool, fail, objectOf, rate, ratioLimit, saveDir, secondsLimit, wholeNumber } from './validate.ts';

// The settings' shape is @cascade/shapes' (the API, the CLI and the web app read the same).
export type { AltSpeedSchedule, PortMappingSetting, SeedingLimitAction, Settings };

export const PORT_MAPPING_SETTINGS: readonly PortMappingSetting[] = ['auto', 'upnp', 'natpmp', 'off'];

export type SettingsKey = keyof Settings;

export const SETTINGS_KEYS: readonly SettingsKey[] = [
  'downloadLimit',
  'uploadLimit',
  'altDownloadLimit',
  'altUploadLimit',
  'altSpeedEnabled',
  'altSpeedSchedule',
  'maxActiveDownloads',
  'maxActiveUploads',
  'maxActiveTorrents',
  'maxActiveChecks',
  'stalledTimeout',
  'ratioLimit',
  'seedingTimeLimit',
  'seedingLimitAction',
  'downloadDir',
  'publicUrl',
  'startPaused',
  'iceServers',
  'portMapping',
  'lsd',
  'trustedProxies',
  'replicas',
];

/**
 * Defaults. Downloads queue at 5 (Transmission's number); seeding is not queued by default, since
 * sharing a file is what this node is for and a fifth share that silently stops seeding would be a
 * surprise. The turtle limits are 512 KiB/s.
 */
export function defaultSettings(downloadDir: string): Settings {
  return {
    downloadLimit: 0,
    uploadLimit: 0,
    altDownloadLimit: 512 * 1024,
    altUploadLimit: 512 * 1024,
    altSpeedEnabled: false,
    altSpeedSchedule: { enabled: false, from: '20:00', to: '08:00', days: [0, 1, 2, 3, 4, 5, 6] },
    maxActiveDownloads: 5,
    maxActiveUploads: 0,
    maxActiveTorrents: 0,
    maxActiveChecks: 1,
    stalledTimeout: 300,
    ratioLimit: null,
    seedingTimeLimit: null,
    seedingLimitAction: 'pause',
    downloadDir,
    publicUrl: null,
    startPaused: false,
    iceServers: [],
    portMapping: 'auto',
    lsd: true,
    trustedProxies: [],
    replicas: null,
  };
}

const MAX_TRUSTED_PROXIES = 100;
/** More copies than this is a backup scheme, not replication. */
const MAX_REPLICAS = 16;

/** A list of IP addresses and CIDR ranges ("10.0.0.0/8", "fd00::/8"), or a comma-separated text of them. */
export function trustedProxiesSetting(v: unknown): string[] {
  const list = typeof v === 'string' ? v.split(/[\s,]+/).filter((e) => e !== '') : v;
  if (!Array.isArray(list) || list.length > MAX_TRUSTED_PROXIES || list.some((e) => typeof e !== 'string')) {
    fail('trustedProxies', `must be a list of at most ${MAX_TRUSTED_PROXIES} IP addresses or CIDR ranges`);
  }
  const out = (list as string[]).map((e) => e.trim());
  for (const e of out) {
    const [addr, bits, extra] = e.split('/');
    const family = isIP(addr!);
    const ok = family !== 0 && extra === undefined && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)));
    if (!ok) fail('trustedProxies', `holds "${e.slice(0, 64)}", which is neither an IP address nor a CIDR range (10.0.0.0/8, fd00::/8)`);
  }
  return [...new Set(out)];
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const MAX_ACTIVE = 100_000;

function schedule(v: unknown, current: AltSpeedSchedule): AltSpeedSchedule {
  const o = objectOf(v, '"altSpeedSchedule"', ['enabled', 'from', 'to', 'days']);
  const next = { ...current, days: [...current.days] };
  if ('enabled' in o) next.enabled = bool('altSpeedSchedule.enabled', o.enabled);
  for (const k of ['from', 'to'] as const) {
    if (!(k in o)) continue;
    const t = o[k];
    if (typeof t !== 'string' || !HHMM.test(t)) fail(`altSpeedSchedule.${k}`, 'must be a time "HH:MM" (00:00 to 23:59)');
    next[k] = t;
  }
  if ('days' in o) {
    const d = o.days;
    if (!Array.isArray(d) || d.length > 7 || d.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 6)) {
      fail('altSpeedSchedule.days', 'must be a list of weekdays 0 (Sunday) to 6 (Saturday)');
    }
    next.days = [...new Set(d as number[])].sort((a, b) => a - b);
  }
  return next;
}

/** "https://host[:port][/path]" without a trailing slash, or null for none. */
export function publicUrl(v: unknown): string | null {
  if (v === null || v === '') return null;
  if (typeof v !== 'string' || v.length > 2048) fail('publicUrl', 'must be null or an http(s) URL');
  let u: URL;
  try {
    u = new URL(v.trim());
  } catch {
    fail('publicUrl', 'must be null or an http(s) URL such as "https://cascade.example.org"');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail('publicUrl', 'must start with http:// or https://');
  if (u.username || u.password) fail('publicUrl', 'must not carry a user name or password');
  if (u.search || u.hash) fail('publicUrl', 'must not have a query or a fragment');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** The announce URLs a public URL stands for: HTTP, and the WebSocket form browsers use. */
export function publicAnnounceUrls(base: string): { http: string; ws: string } {
  return { http: `${base}/announce`, ws: `${base.replace(/^http/, 'ws')}/announce` };
}

/**
 * Checks a patch (any subset of the settings) against the current settings and returns the full new
 * settings. Throws a InvalidInput naming the first bad field; nothing is applied then.
 */
export function applyPatch(current: Settings, patch: unknown, ctx: { stateDir: string }): Settings {
  const o = objectOf(patch, 'settings', SETTINGS_KEYS);
  const next: Settings = { ...current, altSpeedSchedule: { ...current.altSpeedSchedule } };
  for (const [key, v] of Object.entries(o) as [SettingsKey, unknown][]) {
    switch (key) {
      case 'downloadLimit':
      case 'uploadLimit':
      case 'altDownloadLimit':
      case 'altUploadLimit':
        next[key] = rate(key, v);
        break;
      case 'altSpeedEnabled':
      case 'startPaused':
      case 'lsd':
        next[key] = bool(key, v);
        break;
      case 'altSpeedSchedule':
        next.altSpeedSchedule = schedule(v, current.altSpeedSchedule);
        break;
      case 'maxActiveDownloads':
      case 'maxActiveUploads':
      case 'maxActiveTorrents':
      case 'maxActiveChecks':
        next[key] = wholeNumber(key, v, MAX_ACTIVE);
        break;
      case 'stalledTimeout':
        next.stalledTimeout = wholeNumber(key, v, 7 * 86400);
        break;
      case 'ratioLimit':
        next.ratioLimit = ratioLimit(key, v, false);
        break;
      case 'seedingTimeLimit':
        next.seedingTimeLimit = secondsLimit(key, v, false);
        break;
      case 'seedingLimitAction':
        if (v !== 'pause' && v !== 'remove') fail(key, 'must be "pause" or "remove"');
        next.seedingLimitAction = v;
        break;
      case 'downloadDir':
        if (typeof v === 'string' && !v.startsWith('/') && !/^[a-zA-Z]:[\\/]/.test(v)) fail(key, 'must be an absolute path');
        next.downloadDir = saveDir(key, v, '/', ctx.stateDir);
        break;
      case 'publicUrl':
        next.publicUrl = publicUrl(v);
        break;
      case 'iceServers':
        next.iceServers = iceServersSetting(key, v);
        break;
      case 'trustedProxies':
        next.trustedProxies = trustedProxiesSetting(v);
        break;
      case 'replicas':
        if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_REPLICAS)) {
          fail(key, `must be null (2 with two or more members, else 1) or a whole number from 1 to ${MAX_REPLICAS}`);
        }
        next.replicas = v as number | null;
        break;
      case 'portMapping':
        if (!PORT_MAPPING_SETTINGS.includes(v as PortMappingSetting)) fail(key, 'must be "auto", "upnp", "natpmp" or "off"');
        next.portMapping = v as PortMappingSetting;
        break;
    }
  }
  return next;
}

type Listener = (next: Settings, prev: Settings, changed: SettingsKey[]) => void;

/** The settings rows as the Store holds them, read before the model is made. */
export type StoredSettings = readonly { key: string; value: string }[];

export function readStoredSettings(store: Store): Promise<StoredSettings> {
  return store.all<{ key: string; value: string }>('SELECT key, value FROM settings');
}

export class SettingsStore {
  readonly #store: Store;
  readonly #stateDir: string;
  #current: Settings;
  /** What a key never stored is (reload() starts from them). */
  readonly #defaults: Settings;
  #listeners: Listener[] = [];
  /** The update in progress: the next one starts from what it stored. */
  #updating: Promise<unknown> = Promise.resolve();
  readonly #note: (text: string) => void;

  constructor(state: { readonly store: Store; readonly stateDir: string }, rows: StoredSettings, defaults: Settings, note: (text: string) => void = () => {}) {
    this.#store = state.store;
    this.#stateDir = state.stateDir;
    this.#note = note;
    this.#current = defaults;
    this.#defaults = defaults;
    // Stored values go through the same checks: one edited by hand to nonsense falls back to its default.
    for (const r of rows) {
      if (!(SETTINGS_KEYS as readonly string[]).includes(r.key)) continue;
      try {
        this.#current = applyPatch(this.#current, { [r.key]: JSON.parse(r.value) as unknown }, { stateDir: state.stateDir });
      } catch (err) {
        note(`setting ${r.key} in the state DB is invalid (${err instanceof Error ? err.message : String(err)}); using its default`);
      }
    }
  }

  get(): Settings {
    return structuredClone(this.#current);
  }

  /** The settings themselves, not a copy, for readers that run often (the queue's tick, each
   *  second: a structured clone there was a third of an idle node's CPU). Never changed in place:
   *  update() replaces the object. */
  current(): Readonly<Settings> {
    return this.#current;
  }

  /** Validates, stores and applies a patch; returns the full settings. Updates run one at a time,
   *  each on the settings the one before it left. */
  update(patch: unknown): Promise<Settings> {
    const run = this.#updating.then(() => this.#update(patch));
    this.#updating = run.catch(() => {});
    return run;
  }

  async #update(patch: unknown): Promise<Settings> {
    const prev = this.#current;
    const next = applyPatch(prev, patch, { stateDir: this.#stateDir });
    const changed = SETTINGS_KEYS.filter((k) => JSON.stringify(prev[k]) !== JSON.stringify(next[k]));
    const keys = Object.keys(patch as object) as SettingsKey[];
    await this.#store.transaction(async (tx) => {
      for (const k of keys) await tx.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [k, JSON.stringify(next[k])]);
    });
    this.#current = next;
    this.#tell(next, prev, changed);
    return this.get();
  }

  #tell(next: Settings, prev: Settings, changed: SettingsKey[]): void {
    for (const fn of this.#listeners) {
      // A listener failing (an engine refusing a value) must not undo a change already stored.
      try {
        fn(structuredClone(next), structuredClone(prev), changed);
      } catch (err) {
        this.#note(`applying settings (${changed.join(', ')}) failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /**
   * Reads the settings again from the Store: another cluster member changed them (issue 42). The
   * listeners hear the keys that changed, as after an update here; nothing changed, nothing said.
   * Runs in the updates' line, so an update here never starts from a view the read replaces midway.
   */
  reload(): Promise<SettingsKey[]> {
    const run = this.#updating.then(async () => {
      const rows = await readStoredSettings(this.#store);
      const prev = this.#current;
      let next = this.#defaults;
      for (const r of rows) {
        if (!(SETTINGS_KEYS as readonly string[]).includes(r.key)) continue;
        try {
          next = applyPatch(next, { [r.key]: JSON.parse(r.value) as unknown }, { stateDir: this.#stateDir });
        } catch {
          // Reported at start; the default stands, as it does there.
        }
      }
      const changed = SETTINGS_KEYS.filter((k) => JSON.stringify(prev[k]) !== JSON.stringify(next[k]));
      if (changed.length === 0) return changed;
      this.#current = next;
      this.#tell(next, prev, changed);
      return changed;
    });
    this.#updating = run.catch(() => {});
    return run;
  }

  /** Called after every update with the keys whose value changed (possibly none). */
  onChange(fn: Listener): () => void {
    this.#listeners.push(fn);
    return () => {
      this.#listeners = this.#listeners.filter((f) => f !== fn);
    };
  }
}

/** The node-wide rates in force: the turtle ones while alternative speed is on. */
export function effectiveRateLimits(s: Settings): { download: number; upload: number } {
  return s.altSpeedEnabled ? { download: s.altDownloadLimit, upload: s.altUploadLimit } : { download: s.downloadLimit, upload: s.uploadLimit };
}
