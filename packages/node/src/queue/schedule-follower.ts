// Flips the alternative ("turtle") speed at the edges of its schedule's window; in between, the
// user's own switch stands (qBittorrent's way). The queue's one timer drives it.

import type { NodeLog } from '../core/node-log.ts';
import { inAltSpeedWindow, type AltSpeedSchedule } from './schedule.ts';

export interface ScheduleSettings {
  altSpeedEnabled: boolean;
  altSpeedSchedule: AltSpeedSchedule;
}

export interface ScheduleHost {
  settings(): ScheduleSettings;
  setAltSpeedEnabled(on: boolean): void;
  out: NodeLog;
  changed(): void;
}

export class ScheduleFollower {
  /** Whether the clock was inside the window at the last look (undefined: no look yet). */
  #lastWindow: boolean | undefined;
  readonly #host: ScheduleHost;
  readonly #clock: () => number;

  constructor(host: ScheduleHost, clock: () => number) {
    this.#host = host;
    this.#clock = clock;
  }

  /** At each edge of the window the alternative speed turns on or off. A schedule just enabled
   *  takes effect at once. */
  follow(s: ScheduleSettings, now: number): void {
    if (!s.altSpeedSchedule.enabled) {
      this.#lastWindow = undefined;
      return;
    }
    const inWindow = inAltSpeedWindow(s.altSpeedSchedule, new Date(now));
    if (inWindow === this.#lastWindow) return;
    this.#lastWindow = inWindow;
    if (s.altSpeedEnabled !== inWindow) {
      this.#host.setAltSpeedEnabled(inWindow);
      this.#host.out.event('alt-speed', { enabled: inWindow, by: 'schedule' });
      this.#host.changed();
    }
  }

  /** The schedule changed: its window's state applies now — unless the same change switched the
   *  alternative speed by hand, which then stands until the next edge like any hand switch. */
  changedSchedule(handSwitch: boolean): void {
    const s = this.#host.settings();
    this.#lastWindow = undefined;
    if (handSwitch && s.altSpeedSchedule.enabled) this.#lastWindow = inAltSpeedWindow(s.altSpeedSchedule, new Date(this.#clock()));
    else this.follow(s, this.#clock());
  }
}
