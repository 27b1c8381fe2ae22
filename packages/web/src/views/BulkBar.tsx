// What to do with the selected torrents: pause, resume, recheck, set a category or remove them —
// each one POST /api/torrents/bulk for all of them, whose per-torrent results say which failed.

import { useEffect, useMemo, useState } from 'react';
import { api, type BulkRequest } from '../api.ts';
import { refreshTorrents } from '../live.ts';
import { IconPause, IconPlay, IconTrash, IconX } from '../components/icons.tsx';
import { RemoveDialog } from './TorrentRow.tsx';

const NO_CATEGORY = ':none';

export function BulkBar({
  hashes,
  usedCategories,
  onClear,
  onRemoved,
  confirm,
  setConfirm,
}: {
  hashes: string[];
  usedCategories: string[];
  onClear: () => void;
  onRemoved: () => void;
  /** The remove question is open (kept by the page: the Delete key on a row opens it too). */
  confirm: boolean;
  setConfirm: (open: boolean) => void;
}) {
  const known = useKnownCategories();
  const categories = useMemo(() => [...new Set([...known, ...usedCategories])].sort((a, b) => a.localeCompare(b)), [known, usedCategories]);
  const [busy, setBusy] = useState<string>();
  const [message, setMessage] = useState<{ text: string; bad: boolean }>();
  const n = hashes.length;
  const torrents = `${n} torrent${n === 1 ? '' : 's'}`;

  const run = async (label: string, body: Omit<BulkRequest, 'infoHashes'>): Promise<boolean> => {
    setBusy(body.action);
    setMessage(undefined);
    try {
      const { results } = await api.bulk({ ...body, infoHashes: hashes });
      const failed = results.filter((r) => !r.ok);
      setMessage(
        failed.length === 0
          ? { text: `${label}: ${torrents} done.`, bad: false }
          : { text: `${label}: ${failed.length} of ${results.length} failed — ${failed[0]!.error ?? 'unknown error'}`, bad: true },
      );
      await refreshTorrents();
      return failed.length === 0;
    } catch (err) {
      setMessage({ text: `${label}: ${(err as Error).message}`, bad: true });
      return false;
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <div className="bulk-bar" role="toolbar" aria-label={`Actions on ${torrents} selected`} data-testid="bulk-bar">
      <span className="bulk-count" data-testid="bulk-count">
        {n} selected
      </span>
      <button type="button" className="btn btn-small" data-testid="bulk-resume" disabled={!!busy} onClick={() => void run('Resume', { action: 'resume' })}>
        <IconPlay />
        <span>Resume</span>
      </button>
      <button type="button" className="btn btn-small" data-testid="bulk-pause" disabled={!!busy} onClick={() => void run('Pause', { action: 'pause' })}>
        <IconPause />
        <span>Pause</span>
      </button>
      <button type="button" className="btn btn-small" data-testid="bulk-recheck" disabled={!!busy} onClick={() => void run('Recheck', { action: 'recheck' })}>
        <span>Recheck</span>
      </button>
      <label className="bulk-category">
        <span className="visually-hidden">Set the category of the selected torrents</span>
        <select
          className="input input-small"
          data-testid="bulk-category"
          value=""
          disabled={!!busy}
          onChange={(e) => {
            const v = e.target.value;
            if (!v) return;
            void run('Set category', { action: 'setCategory', category: v === NO_CATEGORY ? null : v });
          }}
        >
          <option value="">Set category…</option>
          <option value={NO_CATEGORY}>(no category)</option>
          {categories.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="btn btn-small btn-danger-ghost" data-testid="bulk-remove" disabled={!!busy} onClick={() => setConfirm(true)}>
        <IconTrash />
        <span>Remove</span>
      </button>
      <button type="button" className="icon-btn" aria-label="Clear the selection" title="Clear the selection (Esc)" data-testid="bulk-clear" onClick={onClear}>
        <IconX />
      </button>
      <span className={`bulk-message${message?.bad ? ' error-text' : ''}`} role="status" data-testid="bulk-message">
        {message?.text ?? ''}
      </span>
      {confirm && (
        <RemoveDialog
          title={`Remove ${torrents}?`}
          busy={busy === 'remove'}
          testIds={{ confirm: 'bulk-remove-confirm', deleteData: 'bulk-remove-delete-data' }}
          onCancel={() => setConfirm(false)}
          onConfirm={(deleteData) =>
            void run('Remove', { action: 'remove', deleteData }).then((ok) => {
              setConfirm(false);
              if (ok) onRemoved();
            })
          }
        />
      )}
    </div>
  );
}

/** The node's categories (GET /api/categories), read when the bar first shows; none from a node
 *  without them. */
function useKnownCategories(): string[] {
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    api.categories().then(
      (list) => live && setNames(list.map((c) => c.name)),
      () => {},
    );
    return () => {
      live = false;
    };
  }, []);
  return names;
}
