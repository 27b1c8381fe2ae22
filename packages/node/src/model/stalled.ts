// Why a magnet waits for its metadata (issue 20, defect 9): after STALLED_AFTER_MS in "metadata", the
// detail says in plain words what was tried and what answered — each tracker's last reply or error,
// the DHT's lookups, the peers dialled and how each attempt ended — from the engine's discovery report.

import type { DiscoveryReport, TrackerStatus } from '../core/engine.ts';

export const STALLED_AFTER_MS = 30_000;

/** When each torrent was first seen waiting for metadata (cleared once it has it, or is paused). */
export class MetadataWatch {
  #since = new Map<string, number>();

  observe(infoHash: string, state: string, now = Date.now()): void {
    if (state === 'metadata') {
      if (!this.#since.has(infoHash)) this.#since.set(infoHash, now);
    } else this.#since.delete(infoHash);
  }

  /** ms it has been waiting, or undefined when it is not waiting. */
  waiting(infoHash: string, state: string, now = Date.now()): number | undefined {
    this.observe(infoHash, state, now);
    const since = this.#since.get(infoHash);
    return since === undefined ? undefined : now - since;
  }

  forget(infoHash: string): void {
    this.#since.delete(infoHash);
  }
}

function ago(at: number | undefined | null, now: number): string {
  if (!at) return '';
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 90 ? ` ${s} s ago` : ` ${Math.round(s / 60)} min ago`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

function trackerLine(t: TrackerStatus, now: number): string {
  const name = t.url;
  if (t.status === 'ok' || (t.lastReplyAt && (!t.lastErrorAt || t.lastReplyAt >= t.lastErrorAt))) {
    return `${name} answered${ago(t.lastReplyAt ?? t.lastAnnounce, now)} with ${t.peers} peer${t.peers === 1 ? '' : 's'}`;
  }
  if (t.status === 'error' || t.lastError) return `${name} failed${ago(t.lastErrorAt ?? t.lastAnnounce, now)}: ${t.lastError ?? t.message ?? 'no answer'}`;
  if (t.status === 'working') return `${name} has not answered yet`;
  return `${name} was not asked yet`;
}

/** The plain sentence, or null while it is not (or not long enough) waiting for metadata. */
export function stalledReason(report: DiscoveryReport, waitedMs: number | undefined, afterMs = STALLED_AFTER_MS, now = Date.now()): string | null {
  if (waitedMs === undefined || waitedMs < afterMs) return null;
  const parts: string[] = [`No peer has sent this torrent's metadata in ${duration(waitedMs)}.`];
  parts.push(
    report.trackers.length === 0 ? 'It has no trackers.' : `Trackers: ${report.trackers.map((t) => trackerLine(t, now)).join('; ')}.`,
  );
  const d = report.dht;
  if (!d.enabled) parts.push('The DHT is off.');
  else if (d.lookups === 0) parts.push(`The DHT (${d.nodes} nodes known) has not been asked yet.`);
  else {
    parts.push(
      `The DHT (${d.nodes} nodes known) was asked ${d.lookups} time${d.lookups === 1 ? '' : 's'}` +
        `${d.lastLookupAt ? `, last${ago(d.lastLookupAt, now)}` : ''}, and gave ${d.peersFound} peer${d.peersFound === 1 ? '' : 's'}.`,
    );
  }
  const tried = report.peersTried;
  if (tried.length === 0) parts.push('No peer was found to ask.');
  else {
    // The last attempt per address, most recent last.
    const last = new Map<string, (typeof tried)[number]>();
    for (const a of tried) last.set(a.address, a);
    const shown = [...last.values()].slice(-5);
    const more = last.size - shown.length;
    parts.push(
      `Peers tried: ${shown.map((a) => `${a.address} (from ${a.source}): ${a.result}`).join('; ')}${more > 0 ? `; and ${more} more` : ''}.`,
    );
  }
  return parts.join(' ');
}
