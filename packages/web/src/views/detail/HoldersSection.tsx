// Which members of a cluster hold this torrent (issue 42): each holder's progress and state there,
// whether its copy counts (its member alive, the copy not failed), and why a copy or a move failed.
// A single node lists only itself: the section shows only in a cluster (a holder with a URL).
// The holders come with GET /api/torrents/:ih, not with the detail pushed each second (they are read
// from the database), so the section keeps the last it got and asks again every few seconds.
import { useEffect, useState } from 'react';
import type { TorrentHolder } from '@cascade/shapes';
import { api } from '../../api/api.ts';
import { formatPercent } from '../../format/format.ts';

function holdersOf(raw: Record<string, unknown> | undefined): TorrentHolder[] {
  return Array.isArray(raw?.holders) ? (raw.holders as TorrentHolder[]) : [];
}

function hostOf(url: string | null): string {
  if (!url) return '';
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const REFRESH_MS = 5000;

export function HoldersSection({ infoHash, raw }: { infoHash: string; raw: Record<string, unknown> | undefined }) {
  const [holders, setHolders] = useState<TorrentHolder[]>(() => holdersOf(raw));
  const given = raw?.holders;
  useEffect(() => {
    if (Array.isArray(given)) setHolders(given as TorrentHolder[]);
  }, [given]);
  const inCluster = holders.some((h) => h.url !== null);
  useEffect(() => {
    const read = () =>
      api.detail(infoHash).then(
        (d) => {
          if (Array.isArray(d.raw?.holders)) setHolders(d.raw.holders as TorrentHolder[]);
        },
        () => {},
      );
    // Opened on a pushed detail (no holders in it): read them once; in a cluster, keep reading.
    if (!inCluster) {
      if (holders.length === 0) void read();
      return;
    }
    const t = setInterval(read, REFRESH_MS);
    return () => clearInterval(t);
  }, [infoHash, inCluster]);
  if (!inCluster) return null;
  const counting = holders.filter((h) => h.alive && h.state !== 'error').length;
  return (
    <section className="holders" data-testid="detail-holders" aria-labelledby="detail-holders-title">
      <h3 className="small-heading" id="detail-holders-title">
        Held by {counting} {counting === 1 ? 'member' : 'members'}
      </h3>
      <div className="table-wrap">
      <table className="table small">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">Progress</th>
            <th scope="col">State</th>
            <th scope="col">Counts</th>
          </tr>
        </thead>
        <tbody>
          {holders.map((h) => {
            const problem = h.error ?? h.moveError ?? null;
            return (
              <tr key={h.member} data-testid="detail-holder" data-member={h.member} data-alive={String(h.alive)} data-state={h.state}>
                <td className="mono" title={h.member}>
                  {hostOf(h.url) || h.member.slice(0, 12)}
                </td>
                <td className="num">{formatPercent(h.progress)}</td>
                <td>
                  {h.state}
                  {h.moveTo ? ` (moving to ${h.moveTo})` : ''}
                  {problem && (
                    <div className="muted small" data-testid="detail-holder-error">
                      {problem}
                    </div>
                  )}
                </td>
                <td>{h.alive && h.state !== 'error' ? 'yes' : h.alive ? 'no: failed' : 'no: member down'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      </div>
    </section>
  );
}
