// The engine's clock for intervals, deadlines and rates: milliseconds since the epoch as they were
// when the process started, plus the monotonic time since. Date.now() follows every step of the
// wall clock (an NTP correction, a user setting the time, a VM resumed), so a time taken before a
// step back of an hour lay an hour in the future after it: a rate limit's next grant, a peer's next
// dial, a sleeping torrent's wake-up all waited that hour (issue 63; test/clock.test.ts shows the
// rate limiter's case). Times shown to people (a tracker's last announce, a log line) stay wall-clock.
// `now` is replaceable so that tests driving Date with mock timers can drive this clock too.
// (performance.timeOrigin is a getter that costs as much as the read itself: read once.)
const origin = performance.timeOrigin;
export const clock = {
  now: (): number => Math.floor(origin + performance.now()),
};
