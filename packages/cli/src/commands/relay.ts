// `cascade relay --directory URL [--host ADDR] [--port N]`: an onion relay and discovery exit on its
// own (issue 14). Its identity is the node identity of --state-dir; it publishes a signed
// descriptor to each directory and keeps it fresh until interrupted.
import { StateDB, nodeIdentity, stateOpenOptions } from '@cascade/node';
import { UsageError } from '../core/errors.ts';
import { waitForStopSignal } from '../core/signals.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';

export async function relayCommand(inv: Invocation, out: Output): Promise<number> {
  const o = inv.options;
  const directories = o.directories;
  if (directories.length === 0) throw new UsageError('cascade relay needs --directory URL: where it publishes its descriptor (a Cascade tracker, e.g. http://127.0.0.1:6969)');
  const db = await StateDB.open(o.stateDir, stateOpenOptions(o.stateDir, o.database));
  let identity;
  try {
    identity = nodeIdentity(db);
  } finally {
    await db.close();
  }
  const stop = waitForStopSignal();
  const { startNodeRelay } = await import('@cascade/node-network/onion');
  const host = o.host ?? '127.0.0.1';
  const relay = await startNodeRelay(
    { identity, host, port: inv.values.port === undefined ? 0 : o.port, directories, exit: o.exit, ...(o.dht ? (o.dhtBootstrap.length > 0 ? { dhtBootstrap: o.dhtBootstrap } : {}) : { dhtBootstrap: [] }) },
    out,
  );
  const d = relay.descriptor();
  out.event('listening', { host, port: relay.port, id: d.id, tcp: d.tcp, ws: d.ws, exit: d.exit !== null, directories });
  out.say(`relay ${d.id} listening on ${d.tcp} (WebSocket ${d.ws})${d.exit ? ', discovery exit' : ''}; published to ${directories.join(', ')}`);
  await stop.promise;
  await relay.close();
  return 0;
}
