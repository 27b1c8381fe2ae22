// Which torrents of the list are selected, the way file managers do it: a click on a row's checkbox
// or ctrl/cmd-click toggles one, shift-click selects the range from the last row clicked (the
// anchor), ctrl+shift-click adds that range, select-all takes every row shown.

import { useCallback, useMemo, useRef, useState } from 'react';

export interface SelectionApi {
  selected: ReadonlySet<string>;
  anchor: string | undefined;
  toggle(hash: string): void;
  /** Selects anchor..hash in the shown order; `add` keeps what was selected besides. */
  range(hash: string, add: boolean): void;
  setAnchor(hash: string): void;
  setAll(hashes: readonly string[]): void;
  clear(): void;
  /** Drops hashes that are no longer shown (filtered out or removed). */
  keepOnly(shown: ReadonlySet<string>): void;
}

export function useSelection(order: readonly string[]): SelectionApi {
  const [state, setState] = useState<{ selected: ReadonlySet<string>; anchor: string | undefined }>({ selected: new Set(), anchor: undefined });
  // Read at click time: the order changes with every tick of the feed, the callbacks need not.
  const orderRef = useRef(order);
  orderRef.current = order;

  const toggle = useCallback((hash: string) => {
    setState((s) => {
      const next = new Set(s.selected);
      if (next.has(hash)) next.delete(hash);
      else next.add(hash);
      return { selected: next, anchor: hash };
    });
  }, []);

  const range = useCallback((hash: string, add: boolean) => {
    const order = orderRef.current;
    setState((s) => {
        const to = order.indexOf(hash);
        const from = s.anchor !== undefined ? order.indexOf(s.anchor) : -1;
        if (to < 0) return s;
        const [lo, hi] = from < 0 ? [to, to] : from < to ? [from, to] : [to, from];
        const next = new Set(add ? s.selected : []);
        for (let i = lo; i <= hi; i++) next.add(order[i]!);
        // The anchor stays, so a second shift-click re-draws the range from the same row.
        return { selected: next, anchor: s.anchor ?? hash };
    });
  }, []);

  const setAnchor = useCallback((hash: string) => setState((s) => (s.anchor === hash ? s : { ...s, anchor: hash })), []);
  const setAll = useCallback((hashes: readonly string[]) => setState((s) => ({ ...s, selected: new Set(hashes) })), []);
  const clear = useCallback(() => setState((s) => (s.selected.size === 0 ? s : { ...s, selected: new Set() })), []);
  const keepOnly = useCallback(
    (shown: ReadonlySet<string>) =>
      setState((s) => {
        let drop = false;
        for (const h of s.selected) if (!shown.has(h)) drop = true;
        if (!drop) return s;
        return { ...s, selected: new Set([...s.selected].filter((h) => shown.has(h))) };
      }),
    [],
  );

  return useMemo(
    () => ({ selected: state.selected, anchor: state.anchor, toggle, range, setAnchor, setAll, clear, keepOnly }),
    [state, toggle, range, setAnchor, setAll, clear, keepOnly],
  );
}
