// The alternative ("turtle") speed schedule, as pure functions of a clock reading in local time.
//
// A window runs from `from` to `to` ("HH:MM", local time) on each listed day (0 = Sunday). A window
// whose `to` is earlier than its `from` runs past midnight, and that morning part belongs to the day
// it started on (Friday 22:00-06:00 covers Saturday 03:00). from == to is the whole day.

import type { AltSpeedSchedule } from '@cascade/shapes';

export type { AltSpeedSchedule };

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes since midnight of "HH:MM", or undefined when it is not a valid 24-hour time. */
export function parseClockTime(text: string): number | undefined {
  const m = HHMM.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** Whether `now` (its local time) falls in the schedule's window. A disabled or invalid schedule: false. */
export function inAltSpeedWindow(schedule: AltSpeedSchedule, now: Date): boolean {
  const from = parseClockTime(schedule.from);
  const to = parseClockTime(schedule.to);
  if (!schedule.enabled || from === undefined || to === undefined) return false;
  const minute = now.getHours() * 60 + now.getMinutes();
  const today = now.getDay();
  const yesterday = (today + 6) % 7;
  if (from === to) return schedule.days.includes(today);
  if (from < to) return schedule.days.includes(today) && minute >= from && minute < to;
  // Overnight: the evening part is today's window, the morning part yesterday's.
  return (minute >= from && schedule.days.includes(today)) || (minute < to && schedule.days.includes(yesterday));
}
