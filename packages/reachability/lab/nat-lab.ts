// The NAT lab: networks built from Linux namespaces for tests, with no link to the machine's own
// network, so that nothing a test sends (UPnP/SSDP, NAT-PMP, PCP, STUN, BitTorrent) can leave them.
//
//   public segment (namespace `<id>-pub`, bridge br0, 198.18.0.0/24 — a reserved range on purpose:
//   the product must judge reachability by what it sees, never by address ranges)
//     198.18.0.1, .2      the public namespace's own addresses (the lab's STUN server listens on both)
//     198.18.0.10+i       more public host addresses: publicHost(i)
//     198.18.0.100+N      router N's WAN address, or open host N's address
//   home N: router namespace `<id>-rN` (wan on the bridge, lan 10.0.N.1/24, NAT by iptables) and
//   home namespace `<id>-hN` (10.0.N.2, default route via the router).
//
// NAT: MASQUERADE is endpoint-independent mapping with port-restricted filtering (a "cone" in STUN's
// words); `--random-fully` picks a new source port per destination (symmetric). With `upnp`/`natpmp`,
// Debian's miniupnpd runs on the router (UPnP IGD on http://10.0.N.1:5000/rootDesc.xml, NAT-PMP and
// PCP on 10.0.N.1:5351) with its nftables chains made by the lab, and STUN against the lab's server
// (miniupnpd grants nothing on a reserved WAN address unless STUN shows the WAN side unfiltered).
//
// Use (as root): `const lab = await createNatLab(t)`; everything is removed in t.after, on lab.close(),
// and on SIGINT/SIGTERM/exit. Names are `cl<4 hex>-…` so parallel test files do not collide.
import { execFile, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type NatKind = 'cone' | 'symmetric' | 'none';

export interface HomeOptions {
  nat: NatKind;
  /** Run miniupnpd on the router with UPnP IGD on. */
  upnp?: boolean;
  /** Run miniupnpd on the router with NAT-PMP (and PCP, same daemon and port) on. */
  natpmp?: boolean;
}

export interface PortMappingRule {
  protocol: 'tcp' | 'udp';
  externalPort: number;
  internalAddress: string;
  internalPort: number;
}

export interface Home {
  /** Where the user's host lives (for nat 'none': the open host itself, on the public segment). */
  ns: string;
  /** The router namespace, or null for an open host. */
  router: string | null;
  /** The host's own address: 10.0.N.2, or the public address for an open host. */
  lanAddress: string;
  /** What the public segment sees: the router's WAN address (or the open host's address). */
  wanAddress: string;
  /** The router's LAN address (10.0.N.1), the home's gateway; null for an open host. */
  gateway: string | null;
  /** miniupnpd's device description URL, when UPnP runs (for `upnpc -u URL …`). */
  upnpUrl: string | null;
  /** The port mappings miniupnpd has installed right now (read from the router's nftables). */
  mappings(): Promise<PortMappingRule[]>;
  /** What miniupnpd printed so far ('' without one). */
  miniupnpdLog(): string;
  /** Removes the home: its processes, namespaces and files. */
  stop(): Promise<void>;
}

export interface ExecResult { stdout: string; stderr: string; code: number }

export interface NatLab {
  id: string;
  public: { ns: string; address: string };
  /** Adds (once) and returns public host address 198.18.0.(10+i) on the public namespace. */
  publicHost(i: number): Promise<string>;
  /** The lab's STUN server (RFC 5780: 198.18.0.1 and .2, ports 3478 and 3479), started on first use. */
  stun(): Promise<{ host: string; port: number; otherHost: string; otherPort: number }>;
  addHome(opts: HomeOptions): Promise<Home>;
  /** Runs a command in a namespace; rejects on a non-zero exit unless `allowFail`. */
  exec(ns: string, cmd: string, args?: string[], opts?: { allowFail?: boolean; timeoutMs?: number; input?: string }): Promise<ExecResult>;
  /** Starts a long-lived command in a namespace; it (and its process group) is killed on cleanup. */
  spawn(ns: string, cmd: string, args?: string[], opts?: SpawnOptions): ChildProcess;
  /** A UDP server on the public namespace answering each datagram with "address:port" of its sender. */
  udpEcho(host: string, port: number): Promise<void>;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const STUN_SCRIPT = path.join(here, 'stun-server.ts');
const STUN = { host: '198.18.0.1', port: 3478, otherHost: '198.18.0.2', otherPort: 3479 };

/** Throws a clear error unless this runs as root with the lab's tools installed (tests FAIL, not skip). */
export function requireLabTools(tools: string[] = ['ip', 'iptables', 'nft', 'miniupnpd']): void {
  if (process.getuid?.() !== 0) throw new Error('the NAT lab needs root (ip netns, iptables, miniupnpd): run the test as root, as `npm test` does');
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length) throw new Error(`the NAT lab needs ${missing.join(', ')}: install them (npm test does as root; see scripts/system-packages.ts)`);
}

const live = new Set<LabImpl>();
let hooked = false;
function hookProcess() {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => { for (const lab of live) lab.closeSync(); });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const lab of live) lab.closeSync();
      process.kill(process.pid, sig); // the default action now that our handler is gone
    });
  }
}

export async function createNatLab(t?: { after: (fn: () => unknown) => void }): Promise<NatLab> {
  requireLabTools(['ip', 'iptables']);
  hookProcess();
  const lab = new LabImpl(`cl${randomBytes(2).toString('hex')}`);
  live.add(lab);
  t?.after(() => lab.close());
  await lab.init();
  return lab;
}

class LabImpl implements NatLab {
  readonly id: string;
  readonly public: { ns: string; address: string };
  private namespaces: string[] = [];
  private children = new Set<ChildProcess>();
  private dirs: string[] = [];
  private hosts = new Set<string>();
  private homes = 0;
  private stunStarted: Promise<void> | null = null;

  constructor(id: string) {
    this.id = id;
    this.public = { ns: `${id}-pub`, address: '198.18.0.1' };
  }

  async init() {
    const pub = this.public.ns;
    await this.addNs(pub);
    await ip(['-n', pub, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', pub, 'link', 'set', 'br0', 'up']);
    await ip(['-n', pub, 'addr', 'add', '198.18.0.1/24', 'dev', 'br0']);
    await ip(['-n', pub, 'addr', 'add', '198.18.0.2/24', 'dev', 'br0']);
  }

  private async addNs(name: string) {
    await ip(['netns', 'add', name]);
    this.namespaces.push(name);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** A veth with one end in `ns` (named `nsIf`) and the other on the public bridge (named `bridgeIf`). */
  private async linkToBridge(ns: string, nsIf: string, bridgeIf: string) {
    await ip(['link', 'add', nsIf, 'netns', ns, 'type', 'veth', 'peer', 'name', bridgeIf, 'netns', this.public.ns]);
    await ip(['-n', this.public.ns, 'link', 'set', bridgeIf, 'master', 'br0', 'up']);
    await ip(['-n', ns, 'link', 'set', nsIf, 'up']);
  }

  async publicHost(i: number): Promise<string> {
    const address = `198.18.0.${10 + i}`;
    if (i < 0 || i > 80) throw new Error('publicHost(i) takes 0..80');
    if (!this.hosts.has(address)) {
      this.hosts.add(address);
      await ip(['-n', this.public.ns, 'addr', 'add', `${address}/24`, 'dev', 'br0']);
    }
    return address;
  }

  stun() {
    this.stunStarted ??= (async () => {
      const child = this.spawn(this.public.ns, process.execPath, [STUN_SCRIPT, `${STUN.host},${STUN.otherHost}`, `${STUN.port},${STUN.otherPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      await waitForOutput(child, /ready/, 10_000, 'the lab STUN server');
    })();
    return this.stunStarted.then(() => ({ ...STUN }));
  }

  async udpEcho(host: string, port: number): Promise<void> {
    const code = `const s=require('node:dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(r.address+':'+r.port,r.port,r.address));s.bind(${port},'${host}',()=>console.log('ready'))`;
    const child = this.spawn(this.public.ns, process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForOutput(child, /ready/, 10_000, 'the UDP echo server');
  }

  async addHome(opts: HomeOptions): Promise<Home> {
    const n = ++this.homes;
    if (n > 150) throw new Error('at most 150 homes per lab');
    const wanAddress = `198.18.0.${100 + n}`;
    const hostNs = `${this.id}-h${n}`;
    await this.addNs(hostNs);
    if (opts.nat === 'none') {
      await this.linkToBridge(hostNs, 'eth0', `o${n}`);
      await ip(['-n', hostNs, 'addr', 'add', `${wanAddress}/24`, 'dev', 'eth0']);
      // A default route, so that "the address the default route uses" means something here too;
      // the public namespace routes nowhere, so nothing goes further.
      await ip(['-n', hostNs, 'route', 'add', 'default', 'via', '198.18.0.1']);
      return this.home({ ns: hostNs, router: null, lanAddress: wanAddress, wanAddress, gateway: null, upnpUrl: null }, [hostNs]);
    }
    const router = `${this.id}-r${n}`;
    await this.addNs(router);
    await this.linkToBridge(router, 'wan', `r${n}`);
    await ip(['-n', router, 'addr', 'add', `${wanAddress}/24`, 'dev', 'wan']);
    await ip(['-n', router, 'route', 'add', 'default', 'via', '198.18.0.1']);
    await ip(['link', 'add', 'lan', 'netns', router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', hostNs]);
    await ip(['-n', router, 'link', 'set', 'lan', 'up']);
    await ip(['-n', router, 'addr', 'add', `10.0.${n}.1/24`, 'dev', 'lan']);
    await ip(['-n', hostNs, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', hostNs, 'addr', 'add', `10.0.${n}.2/24`, 'dev', 'eth0']);
    await ip(['-n', hostNs, 'route', 'add', 'default', 'via', `10.0.${n}.1`]);
    await this.exec(router, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    await this.exec(router, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE', ...(opts.nat === 'symmetric' ? ['--random-fully'] : [])]);
    // A home router's firewall: unsolicited packets from the WAN to the router itself are dropped.
    // Without it, Linux takes a peer's first hole-punching packet for the router's own, confirms a
    // conntrack entry for it, and MASQUERADE then moves the home's outgoing flow to another port:
    // hole punching fails where a real router lets it through. miniupnpd's STUN check needs
    // unsolicited answers (CHANGE-REQUEST), so routers running it keep their WAN side open.
    if (!opts.upnp && !opts.natpmp) {
      await this.exec(router, 'iptables', ['-A', 'INPUT', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'NEW,INVALID', '-j', 'DROP']);
    }
    let log = '';
    let upnpUrl: string | null = null;
    if (opts.upnp || opts.natpmp) {
      requireLabTools(['nft', 'miniupnpd']);
      await this.stun();
      const dir = mkdtempSync(path.join(tmpdir(), `${this.id}-r${n}-`));
      this.dirs.push(dir);
      // miniupnpd (nftables build) adds its rules to these chains; Debian's nft_init.sh would make
      // them, but it reads variables only its iptables twin defines, so the lab makes them itself.
      writeFileSync(path.join(dir, 'init.nft'), [
        'table inet filter {',
        '  chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }',
        '  chain miniupnpd { }',
        '  chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }',
        '  chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }',
        '  chain prerouting_miniupnpd { }',
        '  chain postrouting_miniupnpd { }',
        '}', '',
      ].join('\n'));
      await this.exec(router, 'nft', ['-f', path.join(dir, 'init.nft')]);
      writeFileSync(path.join(dir, 'miniupnpd.conf'), [
        'ext_ifname=wan',
        'listening_ip=lan',
        'http_port=5000',
        `enable_upnp=${opts.upnp ? 'yes' : 'no'}`,
        `enable_natpmp=${opts.natpmp ? 'yes' : 'no'}`,
        'secure_mode=yes',
        'ext_perform_stun=yes',
        `ext_stun_host=${STUN.host}`,
        `ext_stun_port=${STUN.port}`,
        'ipv6_disable=yes',
        `uuid=${randomUUID()}`,
        `lease_file=${path.join(dir, 'leases')}`,
        'system_uptime=no',
        // Short leases are the point of the renewal tests; PCP/NAT-PMP clamp to these.
        'min_lifetime=2',
        'max_lifetime=86400',
        `allow 1024-65535 10.0.${n}.0/24 1024-65535`,
        'deny 0-65535 0.0.0.0/0 0-65535',
        '',
      ].join('\n'));
      const child = this.spawn(router, 'miniupnpd', ['-d', '-f', path.join(dir, 'miniupnpd.conf'), '-P', path.join(dir, 'pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
      child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
      await waitForOutput(child, /Port forwarding is now enabled/, 15_000, 'miniupnpd', () => log);
      const ready = opts.natpmp ? /Listening for NAT-PMP/ : /HTTP listening/;
      await waitForOutput(child, ready, 5_000, 'miniupnpd', () => log);
      if (opts.upnp) upnpUrl = `http://10.0.${n}.1:5000/rootDesc.xml`;
    }
    return this.home({ ns: hostNs, router, lanAddress: `10.0.${n}.2`, wanAddress, gateway: `10.0.${n}.1`, upnpUrl }, [hostNs, router], () => log);
  }

  private home(base: Omit<Home, 'mappings' | 'miniupnpdLog' | 'stop'>, namespaces: string[], log: () => string = () => ''): Home {
    return {
      ...base,
      mappings: async () => (base.router ? parseMappings((await this.exec(base.router, 'nft', ['list', 'chain', 'inet', 'filter', 'prerouting_miniupnpd'], { allowFail: true })).stdout) : []),
      miniupnpdLog: log,
      stop: async () => {
        for (const ns of namespaces) {
          for (const child of this.children) if ((child as ChildProcess & { labNs?: string }).labNs === ns) await stopChild(child);
          await ip(['netns', 'del', ns]).catch(() => {});
          this.namespaces = this.namespaces.filter((x) => x !== ns);
        }
      },
    };
  }

  exec(ns: string, cmd: string, args: string[] = [], opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = execFile('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        if (err && !opts.allowFail) reject(new Error(`${ns}: ${cmd} ${args.join(' ')} failed (${err.message.split('\n')[0]}): ${stderr || stdout}`));
        else resolve({ stdout, stderr, code });
      });
      if (opts.input !== undefined) child.stdin!.end(opts.input);
    });
  }

  spawn(ns: string, cmd: string, args: string[] = [], opts: SpawnOptions = {}): ChildProcess {
    // Its own process group, so that cleanup reaches whatever the command starts in turn.
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'inherit', ...opts, detached: true });
    (child as ChildProcess & { labNs?: string }).labNs = ns;
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async close() {
    live.delete(this);
    await Promise.all([...this.children].map(stopChild));
    for (const ns of this.namespaces.reverse()) await ip(['netns', 'del', ns]).catch(() => {});
    this.namespaces = [];
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    this.dirs = [];
  }

  /** For exit and signal handlers: nothing asynchronous runs there. */
  closeSync() {
    live.delete(this);
    for (const child of this.children) killGroup(child, 'SIGKILL');
    for (const ns of this.namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    this.namespaces = [];
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 15_000 }, (err, _stdout, stderr) => (err ? reject(new Error(`ip ${args.join(' ')}: ${stderr || err.message}`)) : resolve()));
  });
}

function killGroup(child: ChildProcess, sig: NodeJS.Signals) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(-child.pid, sig); } catch { try { child.kill(sig); } catch { /* gone */ } }
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

function waitForOutput(child: ChildProcess, re: RegExp, ms: number, what: string, text?: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const check = (d?: Buffer) => {
      if (d) seen += d.toString();
      if (re.test(text ? text() : seen)) done();
    };
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      child.off('exit', onExit);
      if (err) reject(err); else resolve();
    };
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code}) before it was ready: ${(text ? text() : seen).slice(-2000)}`));
    const timer = setTimeout(() => done(new Error(`${what} not ready after ${ms} ms: ${(text ? text() : seen).slice(-2000)}`)), ms);
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

/** miniupnpd's DNAT rules, e.g. `iif "wan" @nh,72,8 0x6 th dport 6881 dnat ip to 10.0.1.2:6881` (0x6 TCP, 0x11 UDP). */
export function parseMappings(nftChain: string): PortMappingRule[] {
  const out: PortMappingRule[] = [];
  for (const line of nftChain.split('\n')) {
    const m = /@nh,72,8 (0x[0-9a-f]+).*dport (\d+).*dnat ip to ([\d.]+):(\d+)/.exec(line);
    if (!m) continue;
    const proto = Number(m[1]);
    out.push({ protocol: proto === 6 ? 'tcp' : 'udp', externalPort: Number(m[2]), internalAddress: m[3]!, internalPort: Number(m[4]) });
  }
  return out;
}

