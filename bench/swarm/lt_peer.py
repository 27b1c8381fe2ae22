#!/usr/bin/python3
"""libtorrent peer for the swarm benchmark (bench/swarm/run.ts). JSON lines on stdout.

Run with /usr/bin/python3 (python3-libtorrent 2.0.x is only importable there).

  lt_peer.py seed <torrent> <save_path> [--plaintext]
      -> {"event":"listening","port"}, {"event":"ready","cpu"} once the data checked complete.
      Stdin line "usage" -> {"event":"usage",...}; stdin EOF or SIGTERM -> final usage, exit 0.
  lt_peer.py download <torrent> <save_path> [host:port]... [--wait] [--linger] [--plaintext]
      -> {"event":"listening","port"}, {"event":"added"},
         {"event":"done","seconds","t0","tDial","tFirst","t1","cpu","dialAttempts","flushSeconds"}
      --wait: add the torrent, print "added", then wait for a "start" line on stdin before
      connecting to the peers (t0). libtorrent dials on its next session tick (tDial, up to
      500 ms later); "seconds" = t1 - tDial, tFirst = first payload byte, t1 = torrent finished.
      --linger: after done, keep seeding until stdin EOF; otherwise exit right after done.
      --plaintext: no encrypted-handshake attempt first on outgoing connections.
  lt_peer.py info <torrent>
      -> {"infoHash","pieceLength","numPieces","totalSize","version"}

At exit a peer prints {"event":"usage","final":true,"cpu":user+sys s,"maxRss":KB} (getrusage).
Everything is on 127.0.0.1, TCP only; DHT/LSD/UPnP/NAT-PMP are off. For `bench:swarm --link`
(link-run.ts), LT_PEER_HOST puts the peer on another address and LT_PEER_UTP=only turns TCP off
and uTP on, as bench/utp/run.py does.
"""

import json
import os
import resource
import signal
import sys
import threading
import time

import libtorrent as lt


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def log(msg):
    sys.stderr.write("[lt_peer] " + msg + "\n")
    sys.stderr.flush()


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def usage(final=False):
    r = resource.getrusage(resource.RUSAGE_SELF)
    ev = {"event": "usage", "cpu": round(r.ru_utime + r.ru_stime, 4), "maxRss": r.ru_maxrss}
    if final:
        ev["final"] = True
    emit(ev)


def finish(code=0):
    usage(final=True)
    # os._exit: skip libtorrent's orderly (slow) shutdown; nothing needs flushing for a benchmark.
    os._exit(code)


def fail(msg):
    emit({"event": "error", "message": msg})
    log("error: " + msg)
    finish(1)


HOST = os.environ.get("LT_PEER_HOST", "127.0.0.1")
UTP_ONLY = os.environ.get("LT_PEER_UTP") == "only"
# LT_PEER_UTP_TRACE=1 (bench:swarm --link --verbose): libtorrent's uTP counters twice a second.
UTP_TRACE = os.environ.get("LT_PEER_UTP_TRACE") == "1"
UTP_COUNTERS = ("utp_packet_loss", "utp_timeout", "utp_packets_in", "utp_packets_out", "utp_fast_retransmit",
                "utp_packet_resend", "utp_samples_above_target", "utp_samples_below_target",
                "utp_payload_pkts_in", "utp_payload_pkts_out", "utp_redundant_pkts_in")
_utp_last = [0.0]


def utp_trace(ses, alerts):
    """Emits the uTP counters of a session_stats_alert among `alerts`, and asks for the next."""
    if not UTP_TRACE:
        return
    for a in alerts:
        if isinstance(a, lt.session_stats_alert):
            v = a.values  # {"utp.utp_timeout": n, ...}
            emit({"event": "ltutp", "t": int(time.time() * 1000), **{k: v.get("utp." + k, 0) for k in UTP_COUNTERS}})
    now = time.time()
    if now - _utp_last[0] >= 0.5:
        _utp_last[0] = now
        ses.post_session_stats()


def make_session(plaintext=False):
    s = lt.high_performance_seed()
    s.update({
        "listen_interfaces": HOST + ":0",
        "outgoing_interfaces": HOST,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        # Cascade speaks TCP only; keep libtorrent on TCP too so every pair uses the same transport.
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "min_reconnect_time": 1,
        "peer_connect_timeout": 5,
        "alert_mask": (lt.alert.category_t.error_notification
                       | lt.alert.category_t.status_notification
                       | lt.alert.category_t.storage_notification
                       | lt.alert.category_t.connect_notification),
    })
    if UTP_ONLY:
        s.update({"enable_incoming_utp": True, "enable_outgoing_utp": True,
                  "enable_incoming_tcp": False, "enable_outgoing_tcp": False})
    if plaintext:
        # libtorrent's default is to try an encrypted (MSE/PE) handshake first on outgoing
        # connections and to fall back to plaintext when the other side hangs up.
        s["out_enc_policy"] = lt.enc_policy.disabled
    ses = lt.session(s)
    deadline = time.time() + 10
    port = 0
    while time.time() < deadline and not port:
        for a in ses.pop_alerts():
            if isinstance(a, lt.listen_failed_alert):
                fail("listen failed: " + a.message())
            if isinstance(a, lt.listen_succeeded_alert) and a.socket_type == lt.socket_type_t.tcp:
                port = a.port
        if not port:
            ses.wait_for_alert(100)
    port = port or ses.listen_port()
    if not port:
        fail("libtorrent did not start listening")
    return ses, port


def parse_peer(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        fail("bad peer address: " + s)
    return (host.strip("[]"), int(port))


def add(ses, torrent, save_path):
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save_path
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    return ses.add_torrent(atp), atp.ti


def check_errors(alerts):
    for a in alerts:
        if isinstance(a, (lt.file_error_alert, lt.torrent_error_alert)):
            fail(type(a).__name__ + ": " + a.message())


class Stdin:
    """Reads stdin lines on a thread: "start" and "usage" set flags, EOF sets eof."""

    def __init__(self):
        self.start = threading.Event()
        self.eof = threading.Event()
        self.usage_requests = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        try:
            for line in sys.stdin:
                cmd = line.strip()
                if cmd == "start":
                    self.start.set()
                elif cmd == "usage":
                    with self.lock:
                        self.usage_requests += 1
        except Exception:  # noqa: BLE001
            pass
        self.eof.set()

    def take_usage_requests(self):
        with self.lock:
            n, self.usage_requests = self.usage_requests, 0
        return n


def cmd_seed(argv):
    flags = {a for a in argv if a.startswith("--")}
    argv = [a for a in argv if not a.startswith("--")]
    if len(argv) != 2 or flags - {"--plaintext"}:
        fail("usage: seed <torrent> <save_path> [--plaintext]")
    ses, port = make_session("--plaintext" in flags)
    emit({"event": "listening", "port": port})
    stdin = Stdin()
    h, ti = add(ses, argv[0], argv[1])
    # A normal add: libtorrent checks the files, and seeds only once they check out complete.
    checked = False
    while not checked:
        alerts = ses.pop_alerts()
        check_errors(alerts)
        checked = any(isinstance(a, lt.torrent_checked_alert) for a in alerts)
        if stdin.eof.is_set():
            finish(0)
        if not checked:
            ses.wait_for_alert(100)
    st = h.status()
    if not st.is_seeding:
        fail("data incomplete after check: %d/%d pieces" % (st.num_pieces, ti.num_pieces()))
    emit({"event": "ready", "cpu": round(cpu(), 4), "maxRss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})
    while not stdin.eof.is_set():
        alerts = ses.pop_alerts()
        check_errors(alerts)
        utp_trace(ses, alerts)
        for _ in range(stdin.take_usage_requests()):
            st = h.status()
            usage()
            emit({"event": "stats", "uploaded": st.total_payload_upload, "peers": st.num_peers})
        stdin.eof.wait(0.05)
    finish(0)


def cmd_download(argv):
    flags = {a for a in argv if a.startswith("--")}
    pos = [a for a in argv if not a.startswith("--")]
    if len(pos) < 2 or flags - {"--wait", "--linger", "--plaintext"}:
        fail("usage: download <torrent> <save_path> [host:port]... [--wait] [--linger] [--plaintext]")
    torrent, save_path, peers = pos[0], pos[1], [parse_peer(p) for p in pos[2:]]
    ses, port = make_session("--plaintext" in flags)
    emit({"event": "listening", "port": port})
    stdin = Stdin()
    h, ti = add(ses, torrent, save_path)
    emit({"event": "added"})
    if "--wait" in flags:
        while not stdin.start.is_set():
            check_errors(ses.pop_alerts())
            if stdin.eof.is_set():
                finish(1)
            stdin.start.wait(0.01)
    t0 = time.time()
    cpu0 = cpu()
    for p in peers:
        h.connect_peer(p)
    last_progress = t0
    last_dial = t0
    t_dial = None  # libtorrent dials on its next session tick (up to tick_interval, 500 ms, later)
    t_first = None  # first payload byte
    attempts = 0
    while True:
        alerts = ses.pop_alerts()
        check_errors(alerts)
        utp_trace(ses, alerts)
        now = time.time()
        for a in alerts:
            if isinstance(a, lt.peer_connect_alert):
                attempts += 1
                if t_dial is None:
                    t_dial = now
        if t_first is None and h.status().total_payload_download > 0:
            t_first = now
        if any(isinstance(a, lt.torrent_finished_alert) for a in alerts):
            break
        if now - last_progress >= 1.0:
            last_progress = now
            st = h.status()
            emit({"event": "progress", "progress": round(st.progress, 4), "downloaded": st.total_payload_download,
                  "peers": st.num_peers})
            if st.num_peers == 0 and now - last_dial > 2:
                last_dial = now
                for p in peers:
                    h.connect_peer(p)
        if stdin.eof.is_set():
            fail("stdin closed before the download finished")
        # Until the first byte, poll the status every 10 ms to timestamp it.
        ses.wait_for_alert(10 if t_first is None else 500)
    t1 = time.time()
    cpu1 = cpu()
    st = h.status()
    # "Finished" means every piece passed its hash check; libtorrent 2.0 may still hold some of
    # them in its store buffer, to be written by the disk threads. Wait for those writes (the
    # harness compares the file right after), and report how long that took.
    h.flush_cache()
    flushed = False
    deadline = time.time() + 60
    while not flushed and time.time() < deadline:
        alerts = ses.pop_alerts()
        check_errors(alerts)
        flushed = any(isinstance(a, lt.cache_flushed_alert) for a in alerts)
        if not flushed:
            ses.wait_for_alert(100)
    if not flushed:
        fail("no cache_flushed_alert within 60 s after finishing")
    t2 = time.time()
    t_dial = t_dial or t0
    t_first = t_first or t1
    emit({"event": "done", "seconds": round(t1 - t_dial, 4), "t0": t0 * 1000, "tDial": t_dial * 1000,
          "tFirst": t_first * 1000, "t1": t1 * 1000, "cpu": round(cpu1 - cpu0, 4),
          "downloaded": st.total_payload_download, "dialAttempts": attempts, "flushSeconds": round(t2 - t1, 4)})
    if "--linger" in flags:
        while not stdin.eof.is_set():
            check_errors(ses.pop_alerts())
            stdin.eof.wait(0.1)
    finish(0)


def cmd_info(argv):
    ti = lt.torrent_info(argv[0])
    ih = ti.info_hashes()
    # A v2-only torrent's id is its truncated SHA-256 (BEP 52).
    ih_hex = (str(ih.v1) if ih.has_v1() else str(ih.v2)[:40]) if hasattr(ih, "v1") else str(ih)
    emit({"infoHash": ih_hex, "pieceLength": ti.piece_length(),
          "numPieces": ti.num_pieces(), "totalSize": ti.total_size(), "version": lt.__version__})
    return 0


def main():
    signal.signal(signal.SIGTERM, lambda *_: finish(0))
    if len(sys.argv) < 2 or sys.argv[1] not in ("seed", "download", "info"):
        fail("usage: lt_peer.py seed|download|info ...")
    handler = {"seed": cmd_seed, "download": cmd_download, "info": cmd_info}[sys.argv[1]]
    try:
        sys.exit(handler(sys.argv[2:]))
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001
        fail("%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
