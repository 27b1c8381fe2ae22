// Moving torrents in the queue, as pure functions over an ordered list of infohashes. Several
// torrents move together and keep their order among themselves (the web's bulk bar, `bulk`).

import type { QueueMove } from '@cascade/shapes';

export type { QueueMove };
export const QUEUE_MOVES = ['up', 'down', 'top', 'bottom'] as const satisfies readonly QueueMove[];
/** A compile-time check that every move of the shape is in the list. */
type Listed<T extends true> = T;
type _EveryMove = Listed<QueueMove extends (typeof QUEUE_MOVES)[number] ? true : false>;

export function isQueueMove(v: unknown): v is QueueMove {
  return typeof v === 'string' && (QUEUE_MOVES as readonly string[]).includes(v);
}

/** The order after moving the selected torrents one step up/down or to the top/bottom. */
export function moveInOrder(order: readonly string[], selected: ReadonlySet<string>, move: QueueMove): string[] {
  const out = [...order];
  switch (move) {
    case 'top':
      return [...out.filter((h) => selected.has(h)), ...out.filter((h) => !selected.has(h))];
    case 'bottom':
      return [...out.filter((h) => !selected.has(h)), ...out.filter((h) => selected.has(h))];
    case 'up':
      // Each selected one passes the unselected one just above it; a selected block moves as one.
      for (let i = 1; i < out.length; i++) {
        if (selected.has(out[i]!) && !selected.has(out[i - 1]!)) [out[i - 1], out[i]] = [out[i]!, out[i - 1]!];
      }
      return out;
    case 'down':
      for (let i = out.length - 2; i >= 0; i--) {
        if (selected.has(out[i]!) && !selected.has(out[i + 1]!)) [out[i + 1], out[i]] = [out[i]!, out[i + 1]!];
      }
      return out;
  }
}

/**
 * New stored positions for a reordered subset: the positions the subset held, handed out again in
 * the new order. Torrents outside the subset (seeds) keep theirs; only changed rows are returned, so
 * a move writes as few rows as it can.
 */
export function reassignPositions(
  current: ReadonlyMap<string, number>,
  newOrder: readonly string[],
): Map<string, number> {
  const slots = newOrder.map((h) => current.get(h)!).sort((a, b) => a - b);
  // Equal positions (rows written by hand, or older data) would keep ties: spread them apart.
  for (let i = 1; i < slots.length; i++) if (slots[i]! <= slots[i - 1]!) slots[i] = slots[i - 1]! + 1;
  const changed = new Map<string, number>();
  newOrder.forEach((h, i) => {
    if (current.get(h) !== slots[i]) changed.set(h, slots[i]!);
  });
  return changed;
}
