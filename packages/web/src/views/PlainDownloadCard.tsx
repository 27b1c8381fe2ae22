// A plain file the node is fetching (an http(s)/ftp URL, with mirrors): its progress, the bytes each
// source gave and the checksum verdict, followed until the node shares it as a torrent.
import { useEffect, useState } from 'react';
import type { PlainDownload } from '../api/api.ts';
import { nodeOptions } from '../api/node-options.ts';
import { formatBytes } from '../format/format.ts';
import { ProgressBar } from '../components/ui.tsx';

export function PlainDownloadCard({ start, onShared }: { start: PlainDownload; onShared: (infoHash: string) => void }) {
  const [d, setD] = useState(start);
  const [pollError, setPollError] = useState<string>();
  useEffect(() => {
    if (d.state !== 'downloading') {
      if (d.state === 'done' && d.infoHash) onShared(d.infoHash);
      return;
    }
    const timer = setTimeout(() => {
      nodeOptions.plainDownload(d.id).then(
        (next) => {
          setPollError(undefined);
          setD(next);
        },
        (err: Error) => {
          setPollError(err.message);
          setD({ ...d }); // poll again
        },
      );
    }, 1000);
    return () => clearTimeout(timer);
  }, [d]);

  const fraction = d.length ? d.downloaded / d.length : 0;
  return (
    <div className="card progress-card" data-testid="plain-download" data-state={d.state}>
      <div className="row between">
        <strong>{d.name}</strong>
        <span className="muted small num" data-testid="plain-download-progress">
          {formatBytes(d.downloaded)}
          {d.length ? ` of ${formatBytes(d.length)}` : ''}
        </span>
      </div>
      <ProgressBar value={fraction} state={d.state === 'error' ? 'error' : d.state === 'done' ? 'seeding' : 'downloading'} label={`${d.name} progress`} />
      <ul className="muted small plain-sources">
        {d.sources.map((s) => (
          <li key={s.url} data-testid="plain-download-source">
            <span className="mono">{s.url}</span>: {formatBytes(s.downloaded)}
            {s.dropped ? ` — dropped (${s.dropped})` : ''}
          </li>
        ))}
      </ul>
      <p className="small" data-testid="plain-download-state">
        {d.state === 'downloading' && 'Downloading from every source at once…'}
        {d.state === 'done' && `Done${d.sha256 ? ', SHA-256 checked' : ''}; shared as a torrent.`}
        {d.state === 'error' && `Failed: ${d.error ?? 'unknown error'}`}
      </p>
      {pollError && <p className="muted small">Cannot ask the node: {pollError}</p>}
    </div>
  );
}
