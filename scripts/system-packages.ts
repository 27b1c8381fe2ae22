// The Debian packages the test suite drives, and how to tell whether each one really works here.
// A probe counts a package as present only when its command runs and exits 0: a missing binary,
// a binary that cannot execute, and a Python module that fails to import all count as missing.
// (The first version treated only exit 127 as missing, so `import libtorrent` failing with exit 1
// passed, and a fresh machine never got python3-libtorrent.)
//
// Run directly, it prints the missing packages as JSON: `node scripts/system-packages.ts`.
import { spawn, spawnSync } from 'node:child_process';

export interface SystemPackage {
  /** the Debian package that provides it */
  pkg: string;
  /** the command the tests run, and arguments that make it exit 0 when it works */
  cmd: string;
  args: string[];
}

export const SYSTEM_PACKAGES: SystemPackage[] = [
  // The tests run /usr/bin/python3 (Debian's), whose dist-packages is where python3-libtorrent lands.
  { pkg: 'python3-libtorrent', cmd: '/usr/bin/python3', args: ['-c', 'import libtorrent'] },
  { pkg: 'aria2', cmd: 'aria2c', args: ['--version'] },
  { pkg: 'transmission-cli', cmd: 'transmission-create', args: ['--version'] },
  { pkg: 'mktorrent', cmd: 'mktorrent', args: ['-h'] },
  { pkg: 'chromium', cmd: '/usr/bin/chromium', args: ['--version'] },
  // Browser tests drive Chromium's headless shell (packages/engine/test/chromium.ts: a quarter of the
  // desktop browser's CPU); the desktop one stays for Lighthouse and notifications.
  { pkg: 'chromium-headless-shell', cmd: '/usr/bin/chromium-headless-shell', args: ['--version'] },
  { pkg: 'redis-server', cmd: 'redis-server', args: ['--version'] },
  // The state store's tests (packages/node/test/store.test.ts) start a throwaway PostgreSQL server
  // from Debian's binaries, which live outside PATH in /usr/lib/postgresql/<version>/bin.
  { pkg: 'postgresql', cmd: 'sh', args: ['-c', 'for d in /usr/lib/postgresql/*/bin; do "$d/initdb" --version && "$d/postgres" --version && exit 0; done; exit 1'] },
  // The cluster deployment test (test/deploy/cluster.test.ts) runs deploy/haproxy/haproxy.cfg in
  // front of three members. Debian puts it in /usr/sbin, which is on root's PATH (the installer's).
  { pkg: 'haproxy', cmd: 'haproxy', args: ['-v'] },
  // The CDN test (packages/cli/test/cdn.test.ts) puts nginx's proxy_cache in front of a node.
  { pkg: 'nginx', cmd: '/usr/sbin/nginx', args: ['-v'] },
  { pkg: 'iproute2', cmd: 'ip', args: ['-V'] },
  // The metrics tests scrape a node with a real Prometheus and query it over its HTTP API.
  { pkg: 'prometheus', cmd: 'prometheus', args: ['--version'] },
  // The deployment tests render deploy/k8s with `kubectl kustomize`. Any kubectl will do (a cloud
  // SDK's one counts); when none runs, Debian's kubernetes-client provides it.
  { pkg: 'kubernetes-client', cmd: 'kubectl', args: ['version', '--client'] },
  // The private-shares test captures a swarm's packets to show no name or content crosses the wire.
  { pkg: 'tcpdump', cmd: 'tcpdump', args: ['--version'] },
  // The NAT lab (packages/reachability/lab) builds routers with iptables/nftables and runs Debian's
  // miniupnpd (UPnP IGD, NAT-PMP, PCP) on them; upnpc (miniupnpc) inspects their mappings.
  { pkg: 'iptables', cmd: 'iptables', args: ['--version'] },
  { pkg: 'nftables', cmd: 'nft', args: ['--version'] },
  // The lab makes miniupnpd's nftables chains, so it needs the nftables build (Debian's default
  // alternative; miniupnpd-iptables would look for iptables chains the lab does not make).
  { pkg: 'miniupnpd-nftables', cmd: 'sh', args: ['-c', 'miniupnpd --version 2>&1 | grep -q nftables'] },
  // upnpc has no option that exits 0 without a gateway to ask, so the probe looks it up instead.
  { pkg: 'miniupnpc', cmd: 'sh', args: ['-c', 'command -v upnpc'] },
  // The tracker's TURN credentials are checked against a real coturn (packages/tracker/test/
  // turn-coturn.test.ts). `turnserver --version` prints the version and exits 0 (--help exits 255).
  { pkg: 'coturn', cmd: 'turnserver', args: ['--version'] },
  // FTP sources (packages/sources) are read from a real vsftpd the tests start. It prints its
  // version on file descriptor 0, hence the redirect; /usr/sbin is not on every user's PATH.
  { pkg: 'vsftpd', cmd: 'sh', args: ['-c', '/usr/sbin/vsftpd -v 0>&1 | grep -q vsftpd'] },
  // test/crash/clock-jump.test.ts jumps a node's wall clock with libfaketime (LD_PRELOAD).
  { pkg: 'faketime', cmd: 'sh', args: ['-c', 'faketime -f +1h true && ls /usr/lib/*/faketime/libfaketimeMT.so.1'] },
  // S3 storage against Ceph's radosgw (test/storage-radosgw): a single-host cluster the test makes,
  // one monitor and one memstore OSD (Ceph 16 has no radosgw without RADOS).
  { pkg: 'radosgw', cmd: 'radosgw', args: ['--version'] },
  { pkg: 'ceph-mon', cmd: 'ceph-mon', args: ['--version'] },
  { pkg: 'ceph-osd', cmd: 'ceph-osd', args: ['--version'] },
];

/** True only when the command ran and exited 0 within 30 s. */
export function runsCleanly(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', env, timeout: 30_000 });
  return r.error === undefined && r.status === 0;
}

export function missingPackages(env: NodeJS.ProcessEnv = process.env, list = SYSTEM_PACKAGES): string[] {
  return list.filter((p) => !runsCleanly(p.cmd, p.args, env)).map((p) => p.pkg);
}

/** runsCleanly, without blocking: the suite probes every package at once (one after another they
 *  took 4-20 s before the first test file). */
export function runsCleanlyAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const child = spawn(cmd, args, { stdio: 'ignore', env });
      // Our own timer, not spawn's `timeout`: that one is not cleared when the binary fails to
      // start (EACCES: a file that is not executable), and held the process 30 s after its answer.
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      child.once('error', () => done(false));
      child.once('close', (code) => done(code === 0));
    } catch {
      resolve(false); // some failures throw at once rather than emit (ELOOP: a binary bound over itself)
    }
  });
}

/** missingPackages, every probe at once; the same list in the same order. */
export async function missingPackagesAsync(env: NodeJS.ProcessEnv = process.env, list = SYSTEM_PACKAGES): Promise<string[]> {
  const ok = await Promise.all(list.map((p) => runsCleanlyAsync(p.cmd, p.args, env)));
  return list.filter((_, i) => !ok[i]).map((p) => p.pkg);
}

if (import.meta.main) console.log(JSON.stringify(await missingPackagesAsync()));
