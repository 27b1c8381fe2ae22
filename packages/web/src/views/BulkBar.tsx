// What to do with the selected torrents: pause, resume, recheck, set a category, move them in the
// queue, force-start them, add or remove tags, or remove them — each one POST /api/torrents/bulk for
// all of them, whose per-torrent results say which failed.

import { useEffect, useMemo, useState } from 'react';
import { api, type BulkRequest } from '../api/api.ts';
import { refreshTorrents } from '../state/live.ts';
import { IconPause, IconPlay, IconTrash, IconX } from '../components/icons.tsx';
import { RemoveDialog } from './TorrentRow.tsx';

const NO_CATEGORY = ':none';

type QueueMove = NonNullable<BulkRequest['move']>;
const QUEUE_LABEL: Record<QueueMove, string> = { top: 'Move to top', up: 'Move up', down: 'Move down', bottom: 'Move to bottom' };

/** "a, b,,c " → ["a", "b", "c"] */
const tagList = (text: string) => [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))];

export function BulkBar({
  hashes,
  usedCategories,
  onClear,
  onRemoved,
  confirm,
  setConfirm,
  shown,
  onSelectAll,
}: {
  hashes: string[];
  /** How many rows the table shows (for "Select all", where the header's checkbox is hidden: phones). */
  shown: number;
  onSelectAll: () => void;
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
  const [tagText, setTagText] = useState('');
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
      {n < shown && (
        <button type="button" className="btn btn-small btn-ghost" data-testid="bulk-select-all" onClick={onSelectAll}>
          Select all {shown}
        </button>
      )}
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
      <label>
        <span className="visually-hidden">Move the selected torrents in the download queue</span>
        <select
          className="input input-small"
          data-testid="bulk-queue"
          value=""
          disabled={!!busy}
          onChange={(e) => {
            const move = e.target.value as QueueMove | '';
            if (move) void run(QUEUE_LABEL[move], { action: 'queue', move });
          }}
        >
          <option value="">Queue…</option>
          {(Object.keys(QUEUE_LABEL) as QueueMove[]).map((m) => (
            <option key={m} value={m}>
              {QUEUE_LABEL[m]}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="btn btn-small" data-testid="bulk-force-start" title="Start now, past the queue's limits" disabled={!!busy} onClick={() => void run('Force start', { action: 'forceStart', forceStart: true })}>
        <span>Force start</span>
      </button>
      <form
        className="bulk-tags"
        onSubmit={(e) => {
          e.preventDefault();
          const tags = tagList(tagText);
          if (tags.length > 0) void run('Add tags', { action: 'addTags', tags }).then((ok) => ok && setTagText(''));
        }}
      >
        <input
          className="input input-small"
          data-testid="bulk-tags"
          aria-label="Tags for the selected torrents, separated by commas"
          placeholder="tags, …"
          value={tagText}
          onChange={(e) => setTagText(e.target.value)}
        />
        <button type="submit" className="btn btn-small" data-testid="bulk-add-tags" disabled={!!busy || tagList(tagText).length === 0}>
          Add tags
        </button>
        <button
          type="button"
          className="btn btn-small"
          data-testid="bulk-remove-tags"
          disabled={!!busy || tagList(tagText).length === 0}
          onClick={() => void run('Remove tags', { action: 'removeTags', tags: tagList(tagText) }).then((ok) => ok && setTagText(''))}
        >
          Remove tags
        </button>
      </form>
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
