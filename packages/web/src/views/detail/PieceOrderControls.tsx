// The order a torrent's pieces come in (issue 43 item 7), qBittorrent's two toggles: sequential
// (each wanted file from its start: play it while it downloads) and first and last pieces first (a
// player reads both ends before it starts). PATCH /api/torrents/:infoHash; kept across restarts.
import { nodeOptions } from '../../node-options.ts';
import { useAction } from './use-action.ts';

export function PieceOrderControls({ infoHash, sequential, firstLastPiece }: { infoHash: string; sequential: boolean; firstLastPiece: boolean }) {
  const { busy, error, run } = useAction();
  return (
    <div className="queue-controls">
      <div className="row gap wrap-row" role="group" aria-label="Order of the pieces">
        <button
          type="button"
          className={`btn btn-small${sequential ? ' btn-on' : ''}`}
          aria-pressed={sequential}
          disabled={busy}
          title="Download the pieces in order, each file from its start, so it plays while it downloads"
          onClick={() => void run(() => nodeOptions.patchTorrent(infoHash, { sequential: !sequential }))}
          data-testid="torrent-sequential"
        >
          {sequential ? 'In order ✓' : 'Download in order'}
        </button>
        <button
          type="button"
          className={`btn btn-small${firstLastPiece ? ' btn-on' : ''}`}
          aria-pressed={firstLastPiece}
          disabled={busy}
          title="Fetch each file's first and last pieces before the rest (players read both ends first)"
          onClick={() => void run(() => nodeOptions.patchTorrent(infoHash, { firstLastPiece: !firstLastPiece }))}
          data-testid="torrent-first-last"
        >
          {firstLastPiece ? 'First and last first ✓' : 'First and last pieces first'}
        </button>
      </div>
      {error && <div className="alert alert-error">{error}</div>}
    </div>
  );
}
