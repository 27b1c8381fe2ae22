// Seeding goals of the queue's rows: whether one applies, whether it is reached (on the stored
// totals plus what the accounting has not written yet), and what reaching it does.

import type { NodeLog } from '../core/node-log.ts';
import { errorMessage } from '@cascade/node-state/errors';
import { ratioOf } from '../listing/listing.ts';
import { effectiveLimit, goalReached } from './goals.ts';
import type { QueueRow } from './store.ts';

export interface GoalSettings {
  ratioLimit: number | null;
  seedingTimeLimit: number | null;
}

export type Reached = 'ratio' | 'seedingTime';

export function rowHasGoal(row: QueueRow, s: GoalSettings): boolean {
  return effectiveLimit(row.ratioLimit, s.ratioLimit) !== null || effectiveLimit(row.seedingTimeLimit, s.seedingTimeLimit) !== null;
}

export function rowGoalReached(r: QueueRow, pending: { downloaded: number; uploaded: number; seedingSeconds: number } | undefined, s: GoalSettings): Reached | undefined {
  // The ratio the list shows (a seed has all its bytes verified).
  const ratio = ratioOf(r.totalUploaded + (pending?.uploaded ?? 0), r.totalDownloaded + (pending?.downloaded ?? 0), r.length ?? 0);
  const seedingTime = r.seedingTime + (pending?.seedingSeconds ?? 0);
  return goalReached({ ratio, seedingTime }, effectiveLimit(r.ratioLimit, s.ratioLimit), effectiveLimit(r.seedingTimeLimit, s.seedingTimeLimit));
}

/** Says so, and with the "remove" action removes the torrent (its data kept). */
export function goalAction(
  host: { out: NodeLog; remove(infoHash: string): Promise<void>; changed(): void },
  infoHash: string,
  reached: Reached,
  action: string,
): void {
  const what = reached === 'ratio' ? 'ratio limit' : 'seeding time limit';
  host.out.event('seeding-goal', { infoHash, goal: reached, action });
  if (action === 'remove') {
    host.remove(infoHash).then(
      () => host.changed(),
      (err: unknown) => host.out.note(`removing ${infoHash} at its ${what} failed: ${errorMessage(err)}`),
    );
  }
}
