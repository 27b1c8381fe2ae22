// One torrent in the table. Its buttons are named with the torrent ("Pause ubuntu.iso"), so a screen
// reader's list of buttons says which row each acts on. Drawn again only when something it shows
// changed (the feed sends every torrent every second).

import { memo, useEffect, useRef, useState, type MouseEvent } from 'react';
import { api, type TorrentSummary } from '../api/api.ts';
import { refreshTorrents } from '../state/live.ts';
import { formatBytes, formatDate, formatEta, formatPercent, formatRatio, formatSpeed, peersText } from '../format/format.ts';
import { href } from '../state/router.ts';
import { ProgressBar, StateBadge } from '../components/ui.tsx';
import { IconPause, IconPlay, IconTrash } from '../components/icons.tsx';
import { ratioValue } from '../state/torrent-list.ts';

interface RowProps {
  t: TorrentSummary;
  /** aria-rowindex: the header is row 1. */
  rowIndex: number;
  checked: boolean;
  /** Its detail panel is open. */
  open: boolean;
  /** The one row in the tab order (roving tabindex). */
  focusable: boolean;
  onRowClick: (e: MouseEvent<HTMLTableRowElement>, hash: string, open: boolean) => void;
  onCheck: (e: MouseEvent<HTMLInputElement>, hash: string) => void;
  onError: (message: string) => void;
}

const SHOWN: (keyof TorrentSummary)[] = ['name', 'state', 'progress', 'length', 'downloaded', 'uploaded', 'downloadSpeed', 'uploadSpeed', 'eta', 'peers', 'seeds', 'error', 'category', 'tracker', 'queuePosition', 'ratio', 'addedAt'];

function sameRow(a: RowProps, b: RowProps): boolean {
  if (a.checked !== b.checked || a.open !== b.open || a.focusable !== b.focusable || a.rowIndex !== b.rowIndex) return false;
  if (a.onRowClick !== b.onRowClick || a.onCheck !== b.onCheck || a.onError !== b.onError) return false;
  if (a.t === b.t) return true;
  if (SHOWN.some((k) => a.t[k] !== b.t[k])) return false;
  return (a.t.tags ?? []).join('\u0000') === (b.t.tags ?? []).join('\u0000');
}

export const TorrentRow = memo(function TorrentRow({ t, rowIndex, checked, open, focusable, onRowClick, onCheck, onError }: RowProps) {
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const name = t.name ?? t.infoHashHex;
  // An errored torrent is stopped too: what it needs is Resume (the engine retries it), not Pause.
  const paused = t.state === 'paused' || t.state === 'error';

  const act = async (what: string, fn: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await fn();
      await refreshTorrents();
    } catch (err) {
      onError(`${what} “${name}”: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <tr
      role="row"
      aria-rowindex={rowIndex}
      aria-selected={checked}
      tabIndex={focusable ? 0 : -1}
      className={`tt-row${open ? ' open' : ''}${checked ? ' checked' : ''} state-${t.state}`}
      data-testid="torrent-row"
      data-infohash={t.infoHashHex}
      data-state={t.state}
      onClick={(e) => onRowClick(e, t.infoHashHex, open)}
      // Shift-click selects rows, not the text between them.
      onMouseDown={(e) => {
        if (e.shiftKey) e.preventDefault();
      }}
    >
      <td role="gridcell" className="tt-sel">
        <input type="checkbox" data-testid="torrent-select" aria-label={`Select ${name}`} checked={checked} onClick={(e) => onCheck(e, t.infoHashHex)} onChange={() => {}} />
      </td>
      <td role="gridcell" className="tt-queue r num">
        {t.queuePosition ?? ''}
      </td>
      <td role="gridcell" className="tt-name">
        <a className="name" href={href('torrents', t.infoHashHex)} title={name} data-testid="torrent-name">
          {name}
        </a>
        {t.encrypted && (
          <span
            className="badge badge-encrypted"
            data-testid="torrent-encrypted"
            data-decryptable={t.decryptable ? 'true' : 'false'}
            title={t.decryptable ? 'A private share this node can read' : 'A private share for other people: this node keeps and seeds only its encrypted data'}
          >
            {t.decryptable ? 'Encrypted' : 'Encrypted for others'}
          </span>
        )}
        {t.error && (
          <div className="tt-error error-text" title={t.error}>
            {t.error}
          </div>
        )}
      </td>
      <td role="gridcell" className="tt-size r num">
        <span className="cell-label">Size</span>
        {formatBytes(t.length)}
      </td>
      <td role="gridcell" className="tt-progress">
        <ProgressBar value={t.progress} state={t.state} label={`${name} progress`} />
        <span className="num small" data-testid="torrent-progress">
          {formatPercent(t.progress)}
        </span>
      </td>
      <td role="gridcell" className="tt-state">
        <StateBadge state={t.state} checkWaiting={t.checkWaiting} />
      </td>
      <td role="gridcell" className="tt-down r num">
        <span className="cell-label">Down</span>
        {formatSpeed(t.downloadSpeed)}
      </td>
      <td role="gridcell" className="tt-up r num">
        <span className="cell-label">Up</span>
        {formatSpeed(t.uploadSpeed)}
      </td>
      <td role="gridcell" className="tt-eta r num">
        <span className="cell-label">ETA</span>
        {formatEta(t.eta, t.state)}
      </td>
      <td role="gridcell" className="tt-peers r num">
        <span className="cell-label">Peers</span>
        {peersText(t.peers, t.seeds)}
      </td>
      <td role="gridcell" className="tt-ratio r num">
        <span className="cell-label">Ratio</span>
        {formatRatio(ratioValue(t))}
      </td>
      <td role="gridcell" className="tt-category" title={t.category ?? undefined}>
        {t.category ?? ''}
      </td>
      <td role="gridcell" className="tt-tags" title={(t.tags ?? []).join(', ') || undefined}>
        {(t.tags ?? []).map((tag) => (
          <span key={tag} className="tag">
            {tag}
          </span>
        ))}
      </td>
      <td role="gridcell" className="tt-added num">
        {formatDate(t.addedAt)}
      </td>
      <td role="gridcell" className="tt-actions">
        <div className="tt-buttons">
          {paused ? (
            <button type="button" className="icon-btn" title="Resume" aria-label={`Resume ${name}`} data-testid="resume" disabled={busy} onClick={() => act('Resume', () => api.resume(t.infoHashHex))}>
              <IconPlay />
            </button>
          ) : (
            <button type="button" className="icon-btn" title="Pause" aria-label={`Pause ${name}`} data-testid="pause" disabled={busy} onClick={() => act('Pause', () => api.pause(t.infoHashHex))}>
              <IconPause />
            </button>
          )}
          <button type="button" className="icon-btn danger" title="Remove" aria-label={`Remove ${name}`} data-testid="remove" disabled={busy} onClick={() => setConfirm(true)}>
            <IconTrash />
          </button>
        </div>
        {confirm && (
          <RemoveDialog
            title={`Remove “${name}”?`}
            busy={busy}
            testIds={{ confirm: 'remove-confirm', deleteData: 'remove-delete-data' }}
            onCancel={() => setConfirm(false)}
            onConfirm={(deleteData) => void act('Remove', () => api.remove(t.infoHashHex, deleteData)).then(() => setConfirm(false))}
          />
        )}
      </td>
    </tr>
  );
}, sameRow);

/** A modal question before removing one or many torrents, with "also delete the data". Native
 *  <dialog>: focus stays inside, Escape cancels. */
export function RemoveDialog({
  title,
  busy,
  testIds,
  onCancel,
  onConfirm,
}: {
  title: string;
  busy: boolean;
  testIds: { confirm: string; deleteData: string };
  onCancel: () => void;
  onConfirm: (deleteData: boolean) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [deleteData, setDeleteData] = useState(false);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="confirm-dialog"
      aria-label={title}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
      onClick={(e) => e.stopPropagation()}
    >
      <p className="confirm-title">{title}</p>
      <label className="check">
        <input type="checkbox" checked={deleteData} onChange={(e) => setDeleteData(e.target.checked)} data-testid={testIds.deleteData} />
        also delete the downloaded data
      </label>
      <div className="confirm-buttons">
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="btn btn-danger" data-testid={testIds.confirm} disabled={busy} onClick={() => onConfirm(deleteData)}>
          Remove
        </button>
      </div>
    </dialog>
  );
}
