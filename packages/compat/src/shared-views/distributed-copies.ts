// Distributed copies (qBittorrent's "availability"), counted as libtorrent's piece_picker counts
// them: per piece, the connected peers holding it plus ourselves when we have it; the fewest any
// piece has, plus the share of pieces that have more. A downloader with half the file from one
// seed reads 1.5 (libtorrent, qBittorrent), not 1. One function for every door that shows it: the
// qBittorrent API's torrents/info, the web's Peers tab and the HTTP API's piece map.

/** `states`: per piece 2 verified here (else missing or in flight); `availability`: connected peers
 *  holding it. null for a torrent with no pieces known. */
export function distributedCopies(states: ArrayLike<number | string>, availability: ArrayLike<number>): number | null {
  const n = states.length;
  if (n === 0) return null;
  let min = Infinity, atMin = 0;
  for (let i = 0; i < n; i++) {
    const s = states[i];
    const copies = (availability[i] ?? 0) + (s === 2 || s === '2' ? 1 : 0);
    if (copies < min) (min = copies), (atMin = 1);
    else if (copies === min) atMin++;
  }
  return min + (n - atMin) / n;
}
