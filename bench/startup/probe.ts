// Preloaded (--import) into a `cascade` process by bench/startup/run.ts: counts the modules it loads
// (ES modules and CommonJS alike, through module.registerHooks) and notes, at the first dial or listen
// (net connect, net listen, dgram bind), how many were loaded, how long the process had run and the
// CPU it had used (user + system, its own threads: what 17 CLIs starting at once on 2 cores share).
// The figures go to the file in CASCADE_STARTUP_PROBE as one JSON line each: `first-io`, then `exit`.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import net from 'node:net';
import dgram from 'node:dgram';

const out = process.env['CASCADE_STARTUP_PROBE'];
const loaded = new Set<string>();
registerHooks({
  load(url, context, next) {
    if (!url.startsWith('node:')) loaded.add(url);
    return next(url, context);
  },
});
const ours = () => [...loaded].filter((u) => u.includes('/packages/') && !u.includes('/node_modules/'));
const note = (event: string, extra: object = {}) => {
  if (!out) return;
  const own = ours();
  const byPackage: Record<string, number> = {};
  for (const u of own) {
    // The node's own folders apart: what a command drags in of the cluster, private shares, RSS….
    const m = /\/packages\/([^/]+)\/(?:src\/([^/]+)\/)?/.exec(u);
    const p = m ? (m[1] === 'node' && m[2] ? `node/${m[2]}` : m[1]!) : '?';
    byPackage[p] = (byPackage[p] ?? 0) + 1;
  }
  appendFileSync(out, JSON.stringify({ event, ms: Math.round(process.uptime() * 1000), cpuMs: cpuMs(), modules: loaded.size, ownModules: own.length, byPackage, rssMB: Math.round(process.memoryUsage().rss / 1048576), ...extra }) + '\n');
};

function cpuMs(): number {
  const c = process.cpuUsage();
  return Math.round((c.user + c.system) / 1000);
}

let seen = false;
const first = (what: string) => {
  if (seen) return;
  seen = true;
  note('first-io', { what });
};
const wrap = <T extends object>(proto: T, key: keyof T & string, what: string) => {
  const orig = proto[key] as unknown as (...a: unknown[]) => unknown;
  (proto as Record<string, unknown>)[key] = function (this: unknown, ...a: unknown[]) {
    first(what);
    return orig.apply(this, a);
  };
};
wrap(net.Socket.prototype, 'connect', 'connect');
wrap(net.Server.prototype, 'listen', 'listen');
wrap(dgram.Socket.prototype, 'bind', 'udp bind');
process.on('exit', () => note('exit'));
