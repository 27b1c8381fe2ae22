// Default piece length for new torrents, shared by the Node and browser torrent makers.

/** libtorrent's table: 16 KiB doubling per size step, capped at 16 MiB. */
export function defaultPieceLength(totalBytes: number): number {
  const steps = [2684355, 10737418, 42949673, 171798692, 687194767, 2748779069, 10995116278, 43980465111, 175921860444, 703687441777];
  let i = 0;
  while (i < steps.length && steps[i]! < totalBytes) i++;
  return 16384 * 2 ** i;
}
