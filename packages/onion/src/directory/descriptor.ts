// Relay descriptors and the directory's relay list. A descriptor says who a relay is (its did:key),
// which onion key to use for the handshake, how to reach it, and what its exit does; the relay signs
// it with its identity key. A directory signs the list it serves with its own key. Clients check
// both signatures and drop descriptors that are stale or sign for someone else.
import { b64u, fromB64u, isDid, signObject, verifyObject, type Identity } from '@cascade/identity';

export const DESCRIPTOR_DOMAIN = 'cascade-onion-descriptor/v1';
export const RELAY_LIST_DOMAIN = 'cascade-onion-relay-list/v1';
/** Longest a descriptor may claim to stay valid: relays republish well before that. */
export const MAX_DESCRIPTOR_LIFETIME_MS = 3 * 3600_000;
/** What an exit offers: discovery only, never a general proxy (descriptors say so). */
export const EXIT_OPERATIONS = ['announce', 'scrape', 'dht-lookup', 'ws-tracker'] as const;
export type ExitOperation = (typeof EXIT_OPERATIONS)[number];

export interface RelayDescriptor {
  v: 1;
  id: string;
  /** X25519 onion key, base64url. */
  onionKey: string;
  /** "host:port" for cells over TCP. */
  tcp?: string;
  /** ws:// or wss:// URL for cells over WebSocket (what browsers use). */
  ws?: string;
  /** A node relay: where tab relays register for signalling (ws:// URL, src/signal.ts). */
  signal?: string;
  /** A tab relay: reached over WebRTC, its offers passed on by the node relay at this signalling
   *  URL. A tab has no tcp or ws address; only browsers (clients and other tabs) dial it. */
  rtc?: string;
  exit: { operations: ExitOperation[]; proxy: false } | null;
  published: number;
  expires: number;
  sig: string;
}

export interface RelayList {
  v: 1;
  directory: string;
  published: number;
  relays: RelayDescriptor[];
  sig: string;
}

export type UnsignedDescriptor = Omit<RelayDescriptor, 'sig' | 'v' | 'id'>;

export function signDescriptor(identity: Identity, d: UnsignedDescriptor): RelayDescriptor {
  return signObject(identity, DESCRIPTOR_DOMAIN, { v: 1 as const, id: identity.did, ...d, sig: '' });
}

/** Why a descriptor is refused, or undefined when it is good at `now`. */
export function descriptorProblem(d: unknown, now = Date.now()): string | undefined {
  if (!d || typeof d !== 'object') return 'not an object';
  const r = d as Record<string, unknown>;
  if (r.v !== 1) return 'unknown version';
  if (!isDid(r.id)) return 'id is not a did:key';
  if (typeof r.onionKey !== 'string') return 'no onion key';
  try {
    if (fromB64u(r.onionKey).length !== 32) return 'onion key is not 32 bytes';
  } catch {
    return 'onion key is not base64url';
  }
  if (r.tcp === undefined && r.ws === undefined && r.rtc === undefined) return 'no address';
  for (const k of ['signal', 'rtc'] as const) {
    if (r[k] !== undefined && !(typeof r[k] === 'string' && /^wss?:\/\/\S+$/.test(r[k]) && r[k].length <= 512)) return `bad ${k} address`;
  }
  if (r.rtc !== undefined && (r.tcp !== undefined || r.ws !== undefined)) return 'a tab relay has only an rtc address';
  if (r.rtc !== undefined && r.exit !== null) return 'a tab relay is never an exit';
  if (r.tcp !== undefined && !(typeof r.tcp === 'string' && /^[^\s/]+:\d{1,5}$/.test(r.tcp))) return 'bad tcp address';
  if (r.ws !== undefined && !(typeof r.ws === 'string' && /^wss?:\/\/\S+$/.test(r.ws))) return 'bad ws address';
  if (typeof r.published !== 'number' || typeof r.expires !== 'number') return 'no lifetime';
  if (r.expires <= now) return 'expired';
  if (r.published > now + 60_000) return 'published in the future';
  if (r.expires - r.published > MAX_DESCRIPTOR_LIFETIME_MS) return 'lifetime too long';
  if (r.exit !== null) {
    const e = r.exit as { operations?: unknown; proxy?: unknown } | undefined;
    if (!e || e.proxy !== false || !Array.isArray(e.operations)) return 'bad exit policy';
  }
  if (!verifyObject(r.id as string, DESCRIPTOR_DOMAIN, r)) return 'bad signature';
  return undefined;
}

export function signRelayList(directory: Identity, relays: RelayDescriptor[], now = Date.now()): RelayList {
  return signObject(directory, RELAY_LIST_DOMAIN, { v: 1 as const, directory: directory.did, published: now, relays, sig: '' });
}

export interface CheckedList {
  relays: RelayDescriptor[];
  /** Descriptors dropped, with the reason (bad signature, expired…). */
  dropped: { id: unknown; reason: string }[];
}

/**
 * Checks a relay list: its signature (and, if `pinned`, that the expected directory signed it),
 * then every descriptor; keeps the good ones.
 */
export function checkRelayList(list: unknown, opts: { pinned?: string; now?: number } = {}): CheckedList {
  const l = list as Partial<RelayList> | null;
  if (!l || typeof l !== 'object' || l.v !== 1 || !Array.isArray(l.relays) || !isDid(l.directory)) {
    throw new Error('not a relay list');
  }
  if (opts.pinned && l.directory !== opts.pinned) throw new Error(`relay list signed by ${l.directory}, not the pinned directory`);
  if (!verifyObject(l.directory, RELAY_LIST_DOMAIN, l)) throw new Error('relay list signature does not verify');
  const out: CheckedList = { relays: [], dropped: [] };
  const seen = new Set<string>();
  for (const d of l.relays) {
    const reason = descriptorProblem(d, opts.now);
    if (reason) out.dropped.push({ id: (d as { id?: unknown })?.id, reason });
    else if (!seen.has(d.id)) {
      seen.add(d.id);
      out.relays.push(d);
    }
  }
  return out;
}

/** A relay in a browser tab: reached over WebRTC only. */
export function isTabRelay(d: Pick<RelayDescriptor, 'rtc' | 'tcp' | 'ws'>): boolean {
  return d.rtc !== undefined && d.tcp === undefined && d.ws === undefined;
}

export function onionKeyOf(d: RelayDescriptor): Uint8Array {
  return fromB64u(d.onionKey);
}

export { b64u };
