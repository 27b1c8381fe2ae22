// Per torrent, what must not interleave on one node: a stored torrent being loaded into the engine
// and its removal (issue 63, bench:crash --cluster "acknowledged removes gone"). A removal that came
// while the load read the torrent's rows found no engine torrent to stop, removed the rows, and the
// load then handed the torrent to the engine: listed and run again on that member for good.

const locks = new WeakMap<object, Map<string, Promise<void>>>();

/** Runs fn once every earlier fn of any of these torrents on `owner` (the node's session) is done;
 *  later ones wait for it. Taken at once for all of them, in call order: no deadlock. */
export function oneAtATime<T>(owner: object, infoHashes: readonly string[], fn: () => Promise<T>): Promise<T> {
  let held = locks.get(owner);
  if (!held) locks.set(owner, (held = new Map()));
  const table = held;
  const before = infoHashes.flatMap((ih) => table.get(ih) ?? []);
  const run = (before.length > 0 ? Promise.all(before).then(fn) : fn());
  const done = run.then(() => {}, () => {});
  for (const ih of infoHashes) table.set(ih, done);
  void done.then(() => {
    for (const ih of infoHashes) if (table.get(ih) === done) table.delete(ih);
  });
  return run;
}
