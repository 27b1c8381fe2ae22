// One Cascade DHT node with the records client, as a process of its own (dht-records-netns.test.ts
// runs it inside network namespaces). argv[2]: JSON {host?, bootstrap, identity?}. Prints JSON
// lines: {"port", "dhtPort", "did"} once up, {"nodes": n} every 200 ms, {"published": …} and {"rows": …}
// for the commands on stdin: "publish <statement JSON>", "search <query>". Ends with stdin.
import readline from 'node:readline';
import { Session } from '@cascade/engine';
import { generateIdentity } from '@cascade/identity';
import { DhtRecords, type DhtTransport } from '../index.ts';

const o = JSON.parse(process.argv[2]!) as { host?: string; bootstrap: string[]; identity?: string };
const s = await Session.create({ port: 0, ...(o.host ? { host: o.host } : {}), dht: { bootstrap: o.bootstrap }, webrtc: false });
const identity = o.identity ? generateIdentity(o.identity) : undefined;
const records = new DhtRecords({ dht: s.dhtQueries as DhtTransport, ...(identity ? { identity } : {}) });
const say = (m: unknown) => process.stdout.write(`${JSON.stringify(m)}\n`);
say({ port: s.port, dhtPort: s.dhtPort, did: identity?.did });
const timer = setInterval(() => say({ nodes: s.health().dhtNodes }), 200);
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [verb, ...rest] = line.split(' ');
  const arg = rest.join(' ');
  if (verb === 'publish') say({ published: await records.publish(JSON.parse(arg)) });
  else if (verb === 'search') say({ rows: await records.search(arg) });
}
clearInterval(timer);
records.close();
await s.close();
