#!/usr/bin/python3
"""The link emulator's forwarder (bench/link/README.md): IP packets between two TUN devices, one in
each of two network namespaces, through a per-direction model of a link: i.i.d. loss, a rate cap
(a serialisation queue with a bounded buffer that drops what overflows it), then a one-way delay
with jitter. The kernel's own TCP and UDP run over it, so a TCP flow's congestion control sees the
queueing delay and the drops as it would on a real bottleneck. Run by link.ts (as root).

  link.py --ns-a NS --ns-b NS --addr-a IP --addr-b IP --tun-a NAME --tun-b NAME
          [--delay-us N] [--jitter-us N] [--loss P] [--rate-bps N] [--queue-bytes N] [--seed N] [--tcp cubic]
  stdout: {"event":"ready"} once both devices are up in their namespaces; a stdin line "stats"
  -> {"event":"stats","ab":{...},"ba":{...}}; stdin EOF or SIGTERM -> exit (the devices go with it).
"""
import argparse, collections, fcntl, json, os, random, select, signal, struct, subprocess, sys, time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

ap = argparse.ArgumentParser()
for name in ("ns-a", "ns-b", "addr-a", "addr-b", "tun-a", "tun-b"):
    ap.add_argument("--" + name, required=True)
ap.add_argument("--delay-us", type=int, default=0)
ap.add_argument("--jitter-us", type=int, default=0)
ap.add_argument("--loss", type=float, default=0.0)
ap.add_argument("--rate-bps", type=float, default=0.0)
ap.add_argument("--queue-bytes", type=int, default=0)
ap.add_argument("--seed", type=int)
ap.add_argument("--tcp", default="cubic")
a = ap.parse_args()
rng = random.Random(a.seed)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def ip(*args):
    subprocess.run(["ip", *args], check=True)


def open_tun(name, ns, addr, peer):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    # The file descriptor stays attached when the device moves into the namespace.
    ip("link", "set", name, "netns", ns)
    ip("-n", ns, "link", "set", "lo", "up")
    ip("-n", ns, "addr", "add", addr, "peer", peer, "dev", name)
    ip("-n", ns, "link", "set", name, "mtu", "1500", "txqueuelen", "10000", "up")
    # TCP's congestion control towards the other side (a namespace's default may only be one of the
    # host's allowed ones; a route's may be any the kernel has).
    ip("-n", ns, "route", "replace", peer, "dev", name, "src", addr, "congctl", a.tcp)
    return fd


class Direction:
    """One way of the link. Packets keep their order: jitter never reorders (a packet whose jittered
    time falls before the previous one's waits for it)."""

    def __init__(self, src, dst):
        self.src, self.dst = src, dst
        self.delay = a.delay_us / 1e6
        self.jitter = a.jitter_us / 1e6
        self.byte_time = 8.0 / a.rate_bps if a.rate_bps > 0 else 0.0
        self.limit = a.queue_bytes
        self.busy_until = 0.0  # when the last packet admitted finishes serialisation
        self.backlog = collections.deque()  # (serialised at, size) of packets still in the buffer
        self.queued = 0
        self.line = collections.deque()  # (deliver at, packet), in order
        self.last_due = 0.0
        self.s = {"packets": 0, "bytes": 0, "lost": 0, "overflow": 0, "delivered": 0, "deliveredBytes": 0,
                  "writeErrors": 0, "maxQueueBytes": 0, "queueMs": 0}

    def arrive(self, pkt, now):
        n = len(pkt)
        s = self.s
        s["packets"] += 1
        s["bytes"] += n
        if a.loss > 0 and rng.random() < a.loss:
            s["lost"] += 1
            return
        due = now
        if self.byte_time:
            bl = self.backlog
            while bl and bl[0][0] <= now:
                self.queued -= bl.popleft()[1]
            if self.limit and self.queued + n > self.limit:
                s["overflow"] += 1
                return
            due = max(now, self.busy_until) + n * self.byte_time
            self.busy_until = due
            bl.append((due, n))
            self.queued += n
            if self.queued > s["maxQueueBytes"]:
                s["maxQueueBytes"] = self.queued
        due += self.delay
        if self.jitter:
            due += rng.uniform(-self.jitter, self.jitter)
        if due < self.last_due:
            due = self.last_due
        self.last_due = due
        self.line.append((due, pkt))

    def deliver(self, now):
        line = self.line
        while line and line[0][0] <= now:
            pkt = line.popleft()[1]
            try:
                os.write(self.dst, pkt)
                self.s["delivered"] += 1
                self.s["deliveredBytes"] += len(pkt)
            except OSError:
                self.s["writeErrors"] += 1

    def next_due(self):
        return self.line[0][0] if self.line else None


def main():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    fa = open_tun(a.tun_a, a.ns_a, a.addr_a, a.addr_b)
    fb = open_tun(a.tun_b, a.ns_b, a.addr_b, a.addr_a)
    ab, ba = Direction(fa, fb), Direction(fb, fa)
    by_fd = {fa: ab, fb: ba}
    ep = select.epoll()
    ep.register(fa, select.EPOLLIN)
    ep.register(fb, select.EPOLLIN)
    ep.register(0, select.EPOLLIN)
    stdin_buf = b""
    emit({"event": "ready"})
    while True:
        now = time.monotonic()
        dues = [d for d in (ab.next_due(), ba.next_due()) if d is not None]
        timeout = max(0.0, min(dues) - now) if dues else 1.0
        events = ep.poll(timeout)
        now = time.monotonic()
        for fd, _ in events:
            if fd == 0:
                chunk = os.read(0, 4096)
                if not chunk:
                    os._exit(0)
                stdin_buf += chunk
                while b"\n" in stdin_buf:
                    line, stdin_buf = stdin_buf.split(b"\n", 1)
                    if line.strip() == b"stats":
                        # The queue each way now, as the wait a packet arriving now would have.
                        t = time.monotonic()
                        for d in (ab, ba):
                            d.s["queueMs"] = round(max(0.0, d.busy_until - t) * 1000, 1)
                        emit({"event": "stats", "ab": ab.s, "ba": ba.s})
                continue
            d = by_fd[fd]
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                d.arrive(pkt, now)
        ab.deliver(now)
        ba.deliver(now)


main()
