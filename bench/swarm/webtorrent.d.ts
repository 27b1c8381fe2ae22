// WebTorrent ships no types; the benchmark's driver (wt-peer.ts) uses a handful of its calls.
declare module 'webtorrent' {
  const WebTorrent: new (opts: Record<string, unknown>) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
  export default WebTorrent;
}
