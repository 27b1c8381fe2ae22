// The order a torrent's pieces come in (issue 43 item 7), qBittorrent's two toggles: sequential
// (each wanted file from its start: play it while it downloads) and first and last pieces first (a
// player reads both ends before it starts). PATCH /api/torrents/:infoHash; kept across restarts.
import { nodeOptions } from '../../api/node-options.ts';
import { useAction } from './use-action.ts';
import { ToggleButton } from './ToggleButton.tsx';

export function PieceOrderControls({ infoHash, sequential, firstLastPiece }: { infoHash: string; sequential: boolean; firstLastPiece: boolean }) {
  const { busy, error, run } = useAction();
  return (
    <div className="queue-controls">
      <div className="row gap wrap-row" role="group" aria-label="Order of the pieces">
        <ToggleButton
          on={sequential}
          disabled={busy}
          title="Download the pieces in order, each file from its start, so it plays while it downloads"
          labelOn="In order ✓"
          labelOff="Download in order"
          testId="torrent-sequential"
          onToggle={() => void run(() => nodeOptions.patchTorrent(infoHash, { sequential: !sequential }))}
        />
        <ToggleButton
          on={firstLastPiece}
          disabled={busy}
          title="Fetch each file's first and last pieces before the rest (players read both ends first)"
          labelOn="First and last first ✓"
          labelOff="First and last pieces first"
          testId="torrent-first-last"
          onToggle={() => void run(() => nodeOptions.patchTorrent(infoHash, { firstLastPiece: !firstLastPiece }))}
        />
      </div>
      {error && <div className="alert alert-error">{error}</div>}
    </div>
  );
}
