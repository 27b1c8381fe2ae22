// What the queue manager (manager.ts) is given: the settings it reads, the node's parts it drives,
// and the options tests set. Apart so a reader sees at a glance what the queue touches.

import type { NodeLog } from '../core/node-log.ts';
import type { SessionHandle } from '../core/engine.ts';
import type { StateDB } from '@cascade/node-state';
import type { QueueLimits } from './plan.ts';
import type { AltSpeedSchedule } from './schedule.ts';

/** The settings the queue reads (a subset of the node's settings). */
export interface QueueSettings extends QueueLimits {
  stalledTimeout: number;
  ratioLimit: number | null;
  seedingTimeLimit: number | null;
  seedingLimitAction: 'pause' | 'remove';
  altSpeedEnabled: boolean;
  altSpeedSchedule: AltSpeedSchedule;
}

export interface QueueHost {
  session: SessionHandle;
  db: StateDB;
  out: NodeLog;
  settings(): QueueSettings;
  /** Turns the alternative speed on or off (a settings change: stored, applied to the engine). */
  setAltSpeedEnabled(on: boolean): void;
  /** Removes a torrent that reached its seeding goal with action "remove" (data kept). */
  remove(infoHash: string): Promise<void>;
  /** Something the user sees changed (the live feed pushes now). */
  changed(): void;
  /** Traffic and seeding time not yet added to the stored totals. */
  pendingTotals(infoHash: string): { downloaded: number; uploaded: number; seedingSeconds: number } | undefined;
  /** Runs at each tick of the queue's one timer, before its own look (the traffic accounting):
   *  the node has one timer, not one per concern. */
  onTick?(): void;
}

export interface QueueOptions {
  /** Milliseconds since the epoch; tests pass their own to drive the schedule. */
  clock?: () => number;
  /** The one timer's period. Default 1000 ms. */
  tickMs?: number;
}
