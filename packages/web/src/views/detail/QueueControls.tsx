// Queue place and force start of one torrent, under its Pause/Resume: move it up, down, to the top
// or the bottom of the download queue (POST /api/torrents/:infoHash/queue), or start it past the
// queue (PATCH forceStart). Complete torrents have no place in the queue: no queue buttons then,
// but super-seeding (BEP 16: each peer shown a rare piece or two at a time; PATCH superSeeding).
import { nodeOptions, type QueueMove } from '../../api/node-options.ts';
import { useAction } from './use-action.ts';
import { ToggleButton } from './ToggleButton.tsx';

const MOVES: { move: QueueMove; label: string; symbol: string }[] = [
  { move: 'top', label: 'Move to the top of the queue', symbol: '⤒' },
  { move: 'up', label: 'Move up the queue', symbol: '↑' },
  { move: 'down', label: 'Move down the queue', symbol: '↓' },
  { move: 'bottom', label: 'Move to the bottom of the queue', symbol: '⤓' },
];

export function QueueControls({ infoHash, queuePosition, forceStart, superSeeding, state }: { infoHash: string; queuePosition: number | null; forceStart: boolean; superSeeding: boolean; state: string }) {
  const { busy, error, run } = useAction();
  const queued = queuePosition !== null;
  return (
    <div className="queue-controls">
      <div className="row gap wrap-row">
        {queued && (
          <>
            <span className="muted small" data-testid="torrent-queue-position">
              Queue #{queuePosition}
              {state === 'queued' ? ' (waiting)' : ''}
            </span>
            <div className="btn-group" role="group" aria-label="Queue">
              {MOVES.map((m) => (
                <button
                  key={m.move}
                  type="button"
                  className="btn btn-small"
                  disabled={busy}
                  title={m.label}
                  aria-label={m.label}
                  onClick={() => void run(() => nodeOptions.queue(infoHash, m.move))}
                  data-testid={`queue-${m.move}`}
                >
                  {m.symbol}
                </button>
              ))}
            </div>
          </>
        )}
        <ToggleButton
          on={forceStart}
          disabled={busy}
          title={forceStart ? 'Forced: runs whatever the queue says. Click to follow the queue again' : 'Start now, past the queue and its limits'}
          labelOn="Forced start ✓"
          labelOff="Force start"
          testId="torrent-force-start"
          onToggle={() => void run(() => nodeOptions.patchTorrent(infoHash, { forceStart: !forceStart }))}
        />
        {(state === 'seeding' || superSeeding) && (
          <ToggleButton
            on={superSeeding}
            disabled={busy}
            title={superSeeding ? 'Super-seeding: peers are shown a rare piece or two at a time. Click to show them everything again' : 'Super-seed: show each peer only a rare piece or two at a time, so every byte sent is one the swarm lacks (for a first seed)'}
            labelOn="Super-seeding ✓"
            labelOff="Super-seed"
            testId="torrent-super-seeding"
            onToggle={() => void run(() => nodeOptions.patchTorrent(infoHash, { superSeeding: !superSeeding }))}
          />
        )}
      </div>
      {error && <div className="alert alert-error">{error}</div>}
    </div>
  );
}
