// The node's torrents as an ARIA grid on a real <table>: sortable column headers (aria-sort),
// one row per torrent with a selection checkbox, keyboard navigation (arrows, Home/End,
// PageUp/PageDown move between rows; Enter opens the detail; Space toggles the selection; shift
// extends it; ctrl/cmd+A selects all; Escape clears; Delete asks to remove), and only the rows near the window drawn once
// the list is long, so thousands of torrents stay quick. Which columns show is decided by the
// table's own width (container queries in styles.css), so the detail panel beside it hides the
// least important ones first.

import { useCallback, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type RefObject } from 'react';
import type { TorrentSummary } from '../api/api.ts';
import type { SelectionApi } from '../state/selection.ts';
import { defaultOrder, type Sort, type SortField } from '../state/torrent-list.ts';
import { navigate } from '../state/router.ts';
import { TorrentRow } from './TorrentRow.tsx';

/** Columns in order: class (styles.css sizes and hides them by it), header, sort field. */
export const COLUMNS: { key: string; label: string; field?: SortField; title?: string; num?: boolean }[] = [
  { key: 'queue', label: '#', field: 'queuePosition', title: 'Queue position', num: true },
  { key: 'name', label: 'Name', field: 'name' },
  { key: 'size', label: 'Size', field: 'size', num: true },
  { key: 'progress', label: 'Progress', field: 'progress' },
  { key: 'state', label: 'State', field: 'state' },
  { key: 'down', label: 'Down', field: 'downloadSpeed', title: 'Download speed', num: true },
  { key: 'up', label: 'Up', field: 'uploadSpeed', title: 'Upload speed', num: true },
  { key: 'eta', label: 'ETA', field: 'eta', title: 'Time left', num: true },
  { key: 'peers', label: 'Peers', title: 'Connected peers (seeds)', num: true },
  { key: 'ratio', label: 'Ratio', field: 'ratio', title: 'Share ratio', num: true },
  { key: 'category', label: 'Category', field: 'category' },
  { key: 'tags', label: 'Tags', field: 'tags' },
  { key: 'added', label: 'Added', field: 'addedAt', title: 'Added on' },
];

/** Past this many rows only those near the window are in the DOM. */
const WINDOW_FROM = 150;
const OVERSCAN = 15;
/** Bounds of the measured row height and of the rows drawn at once: a row caught mid-layout (a few
 *  px tall) must not make the window draw thousands (issue 25: fewer than 500 in the page, always). */
const MIN_ROW_PX = 24;
const MAX_DRAWN = 300;

export function TorrentTable({
  rows,
  sort,
  onSort,
  selection,
  openHash,
  onError,
  onDeleteKey,
}: {
  rows: TorrentSummary[];
  sort: Sort;
  onSort: (s: Sort) => void;
  selection: SelectionApi;
  openHash: string | undefined;
  onError: (message: string) => void;
  onDeleteKey: (hash: string) => void;
}) {
  const order = useMemo(() => rows.map((r) => r.infoHashHex), [rows]);
  const body = useRef<HTMLTableSectionElement>(null);
  const windowed = rows.length > WINDOW_FROM;
  const { start, end, rowHeight } = useRowWindow(rows.length, body, windowed);
  const [focusKey, setFocusKey] = useState<string>();
  const pendingFocus = useRef(false);
  const focusHash = focusKey !== undefined && order.includes(focusKey) ? focusKey : order[0];

  // After a keyboard move, focus the row once it is drawn (it may need a scroll to be).
  useLayoutEffect(() => {
    if (!pendingFocus.current || !focusHash) return;
    const tr = body.current?.querySelector<HTMLElement>(`tr[data-infohash="${focusHash}"]`);
    if (tr) {
      pendingFocus.current = false;
      tr.focus();
    }
  });

  const moveTo = (index: number, extend: boolean) => {
    const i = Math.max(0, Math.min(order.length - 1, index));
    const hash = order[i];
    if (!hash) return;
    if (extend) selection.range(hash, false);
    else selection.setAnchor(hash);
    setFocusKey(hash);
    pendingFocus.current = true;
    if (windowed && (i < start || i >= end) && body.current) {
      const top = body.current.getBoundingClientRect().top + window.scrollY;
      window.scrollTo({ top: Math.max(0, top + i * rowHeight - window.innerHeight / 2) });
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTableSectionElement>) => {
    const tr = e.target as HTMLElement;
    const hash = tr.dataset.infohash;
    if (tr.tagName !== 'TR' || !hash) return;
    const i = order.indexOf(hash);
    const page = Math.max(1, Math.floor(window.innerHeight / rowHeight) - 2);
    const mod = e.ctrlKey || e.metaKey;
    if (e.key === 'ArrowDown') moveTo(i + 1, e.shiftKey);
    else if (e.key === 'ArrowUp') moveTo(i - 1, e.shiftKey);
    else if (e.key === 'Home') moveTo(0, e.shiftKey);
    else if (e.key === 'End') moveTo(order.length - 1, e.shiftKey);
    else if (e.key === 'PageDown') moveTo(i + page, e.shiftKey);
    else if (e.key === 'PageUp') moveTo(i - page, e.shiftKey);
    else if (e.key === 'Enter') navigate('torrents', hash);
    else if (e.key === ' ') selection.toggle(hash);
    else if (mod && e.key.toLowerCase() === 'a') selection.setAll(order);
    else if (e.key === 'Escape' && selection.selected.size > 0) selection.clear();
    else if (e.key === 'Delete') onDeleteKey(hash);
    else return;
    e.preventDefault();
  };

  const onRowClick = useCallback(
    (e: MouseEvent<HTMLTableRowElement>, hash: string, isOpen: boolean) => {
      setFocusKey(hash);
      if ((e.target as HTMLElement).closest('button, a, input, label, select, dialog')) return;
      if (e.shiftKey) selection.range(hash, e.ctrlKey || e.metaKey);
      else if (e.ctrlKey || e.metaKey) selection.toggle(hash);
      else {
        selection.setAnchor(hash);
        navigate('torrents', isOpen ? undefined : hash);
      }
    },
    [selection],
  );

  const onCheck = useCallback(
    (e: MouseEvent<HTMLInputElement>, hash: string) => {
      setFocusKey(hash);
      if (e.shiftKey) selection.range(hash, true);
      else selection.toggle(hash);
    },
    [selection],
  );

  const shownSelected = order.reduce((n, h) => n + (selection.selected.has(h) ? 1 : 0), 0);
  const allChecked = order.length > 0 && shownSelected === order.length;

  return (
    <div className="tt-scroll">
      <table className="tt" role="grid" aria-label="Torrents on this node" aria-multiselectable="true" aria-rowcount={rows.length + 1} data-testid="torrent-table">
        <thead role="rowgroup">
          <tr role="row" aria-rowindex={1}>
            <th role="columnheader" className="tt-sel" scope="col">
              <input
                type="checkbox"
                data-testid="select-all"
                aria-label="Select all torrents shown"
                checked={allChecked}
                ref={(el) => {
                  if (el) el.indeterminate = shownSelected > 0 && !allChecked;
                }}
                onChange={() => (allChecked ? selection.clear() : selection.setAll(order))}
              />
            </th>
            {COLUMNS.map((c) => (
              <SortHeader key={c.key} column={c} sort={sort} onSort={onSort} />
            ))}
            <th role="columnheader" className="tt-actions" scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody
          role="rowgroup"
          ref={body}
          onKeyDown={onKeyDown}
          // Whichever row got the focus (click, script, screen reader) becomes the one Tab returns to.
          onFocus={(e) => {
            const hash = (e.target as HTMLElement).dataset.infohash;
            if ((e.target as HTMLElement).tagName === 'TR' && hash) setFocusKey(hash);
          }}
        >
          {start > 0 && <tr className="tt-spacer" aria-hidden="true" style={{ height: start * rowHeight }} />}
          {rows.slice(start, end).map((t, k) => (
            <TorrentRow
              key={t.infoHashHex}
              t={t}
              rowIndex={start + k + 2}
              checked={selection.selected.has(t.infoHashHex)}
              open={t.infoHashHex === openHash}
              focusable={t.infoHashHex === focusHash}
              onRowClick={onRowClick}
              onCheck={onCheck}
              onError={onError}
            />
          ))}
          {end < rows.length && <tr className="tt-spacer" aria-hidden="true" style={{ height: (rows.length - end) * rowHeight }} />}
        </tbody>
      </table>
    </div>
  );
}

function SortHeader({ column, sort, onSort }: { column: (typeof COLUMNS)[number]; sort: Sort; onSort: (s: Sort) => void }) {
  const { key, label, field, title, num } = column;
  const cls = `tt-${key}${num ? ' r' : ''}`;
  if (!field) {
    return (
      <th role="columnheader" className={cls} scope="col" title={title}>
        {label}
      </th>
    );
  }
  const active = sort.field === field;
  const next: Sort = active ? { field, order: sort.order === 'asc' ? 'desc' : 'asc' } : { field, order: defaultOrder(field) };
  return (
    <th role="columnheader" className={cls} scope="col" aria-sort={active ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className={`tt-sort${active ? ' active' : ''}`} data-testid={`sort-${field}`} title={title ? `Sort by ${title.toLowerCase()}` : `Sort by ${label.toLowerCase()}`} onClick={() => onSort(next)}>
        {label === '#' ? <span aria-label="Queue position">#</span> : label}
        <span className="tt-sort-arrow" aria-hidden="true">
          {active ? (sort.order === 'asc' ? '▲' : '▼') : ''}
        </span>
      </button>
    </th>
  );
}

/** The rows to draw: all of them, or (windowed) those within the window's height plus a margin,
 *  from the table body's place on the page; rows are measured, so phone cards work too. */
function useRowWindow(count: number, body: RefObject<HTMLTableSectionElement | null>, enabled: boolean): { start: number; end: number; rowHeight: number } {
  const [win, setWin] = useState({ start: 0, end: 60 });
  const height = useRef(49);
  /** The page was scrolled to its very end (End, a jump to the bottom): keep it there once the last
   *  rows are drawn, whatever their real height against the estimate (cards differ in height). */
  const pinned = useRef(false);
  useLayoutEffect(() => {
    if (!enabled) return;
    let frame = 0;
    const update = () => {
      frame = 0;
      const el = body.current;
      if (!el) return;
      // The spacers' row height: the mean of the rows drawn, so the estimate follows cards too.
      const drawn = el.querySelectorAll<HTMLElement>('tr[data-infohash]');
      let sum = 0;
      let measured = 0;
      for (let i = 0; i < drawn.length; i++) {
        const h = drawn[i]!.offsetHeight;
        if (h > 0) {
          sum += h;
          measured++;
        }
      }
      if (measured > 0) height.current = Math.max(MIN_ROW_PX, sum / measured);
      const h = height.current;
      const doc = document.documentElement;
      pinned.current = window.scrollY > 0 && window.scrollY + window.innerHeight >= doc.scrollHeight - 2;
      const above = -el.getBoundingClientRect().top;
      const start = Math.max(0, Math.min(count - 1, Math.floor(above / h) - OVERSCAN));
      const end = Math.min(count, Math.ceil((above + window.innerHeight) / h) + OVERSCAN, start + MAX_DRAWN);
      setWin((w) => (w.start === start && w.end === end ? w : { start, end }));
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(update);
    };
    update();
    window.addEventListener('scroll', schedule, { passive: true });
    window.addEventListener('resize', schedule);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener('scroll', schedule);
      window.removeEventListener('resize', schedule);
    };
  }, [count, enabled, body]);
  // When a scroll to the very end drew the last rows, go to the new end. Only then: a render for
  // another reason (a keyboard move that has just scrolled up) must not pull the page back down.
  useLayoutEffect(() => {
    if (!enabled || !pinned.current || win.end < count) return;
    const doc = document.documentElement;
    if (window.scrollY + window.innerHeight < doc.scrollHeight - 2) window.scrollTo(0, doc.scrollHeight);
  }, [win]);
  if (!enabled) return { start: 0, end: count, rowHeight: height.current };
  const start = Math.min(win.start, Math.max(0, count - 1));
  return { start, end: Math.min(count, Math.max(win.end, start + 1)), rowHeight: height.current };
}
