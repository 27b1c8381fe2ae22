#!/usr/bin/python3
"""libtorrent driver for Cascade's interop tests (CLI-style, JSON lines on stdout).

Run with /usr/bin/python3 (the system python has python3-libtorrent 2.0.x).

  lt.py seed <torrent> <save_path> [--upload-rate BYTES/S] [--port N]
      -> {"event":"listening","port":N}, {"event":"checked",...}, {"event":"seeding",...}
      Stays up until killed or until stdin reaches EOF (spawn it with a stdin pipe).
      Exits 1 with {"event":"error"} if the data does not check out complete.
  lt.py download <torrent|magnet|infohash> <save_path> [--peer host:port]... [--timeout S]
      -> {"event":"listening"}, {"event":"metadata"}, {"event":"progress",...}..., {"event":"done"}
      Exit 0 once every piece is verified, 1 on timeout/error or if stdin reaches EOF first.
  lt.py infohash <torrent>
      -> {"infoHash":hex,"name":..,"files":[{"path","size"}],"pieceLength":..,"numPieces":..,"private":..,"trackers":[..]}
  lt.py create <path> <out.torrent> --piece-length N [--announce URL]... [--webseed URL]... [--private]
      -> {"event":"created","infoHash":hex,"torrent":out}   (v1 only; files added in sorted path order)
  lt.py check <torrent> <save_path>
      -> {"event":"checked","progress":p,"piecesHave":n,"numPieces":m}; exit 0 iff complete.

Everything is bound to 127.0.0.1; DHT/LSD/UPnP/NAT-PMP are off; TCP only (uTP off).
Diagnostics (alerts) go to stderr.
"""

import json
import os
import sys
import threading
import time

import libtorrent as lt


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def log(msg):
    sys.stderr.write("[lt.py] " + msg + "\n")
    sys.stderr.flush()


def fail(msg, code=1):
    emit({"event": "error", "message": msg})
    log("error: " + msg)
    # os._exit: skip libtorrent's slow orderly shutdown.
    os._exit(code)


def parse_args(argv, multi=(), flags=()):
    """Tiny argv parser: positional args, '--opt value', repeatable opts in `multi`, booleans in `flags`."""
    pos = []
    opts = {k: [] for k in multi}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            key = a[2:]
            if key in flags:
                opts[key] = True
                i += 1
                continue
            if i + 1 >= len(argv):
                fail("missing value for " + a, 2)
            val = argv[i + 1]
            if key in multi:
                opts[key].append(val)
            else:
                opts[key] = val
            i += 2
        else:
            pos.append(a)
            i += 1
    return pos, opts


def make_session(port=0, upload_rate=0, seeding=False):
    # high_performance_seed's huge send buffers make a rate-limited upload very bursty.
    settings = lt.high_performance_seed() if seeding and not upload_rate else lt.default_settings()
    settings.update({
        "listen_interfaces": "127.0.0.1:%d" % port,
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # Loopback: every peer has the same IP.
        "allow_multiple_connections_per_ip": True,
        # TCP only: Cascade speaks TCP; uTP attempts would only slow connects down.
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        # Don't sit out 60 s after a failed connect (the default).
        "min_reconnect_time": 1,
        "max_failcount": 100,
        "peer_connect_timeout": 5,
        "connections_limit": 500,
        "unchoke_slots_limit": 100,
        "alert_mask": (lt.alert.category_t.error_notification
                       | lt.alert.category_t.status_notification
                       | lt.alert.category_t.storage_notification
                       | lt.alert.category_t.tracker_notification
                       | lt.alert.category_t.peer_notification),
        "user_agent": "cascade-interop-lt/" + lt.__version__,
    })
    if upload_rate > 0:
        settings["upload_rate_limit"] = upload_rate
    ses = lt.session(settings)
    if upload_rate > 0:
        # 127.0.0.1 peers fall in the "local" peer class, which by default ignores
        # the global rate limits; limit that class too.
        local = ses.get_peer_class(lt.session.local_peer_class_id)
        local["upload_limit"] = upload_rate
        ses.set_peer_class(lt.session.local_peer_class_id, local)
        glob = ses.get_peer_class(lt.session.global_peer_class_id)
        glob["upload_limit"] = upload_rate
        ses.set_peer_class(lt.session.global_peer_class_id, glob)
    # Wait for the listen socket so the port we report is real.
    deadline = time.time() + 10
    port_out = 0
    while time.time() < deadline:
        for a in ses.pop_alerts():
            if isinstance(a, lt.listen_failed_alert):
                fail("listen failed: " + a.message())
            if isinstance(a, lt.listen_succeeded_alert):
                if a.socket_type == lt.socket_type_t.tcp:
                    port_out = a.port
        if port_out:
            break
        ses.wait_for_alert(200)
    if not port_out:
        port_out = ses.listen_port()
    if not port_out:
        fail("libtorrent did not start listening")
    return ses, port_out


def drain_alerts(ses, verbose=True):
    out = []
    for a in ses.pop_alerts():
        out.append(a)
        if verbose:
            cat = a.category()
            if cat & lt.alert.category_t.error_notification:
                log("alert %s: %s" % (type(a).__name__, a.message()))
            elif isinstance(a, (lt.tracker_reply_alert, lt.tracker_error_alert,
                                lt.peer_connect_alert, lt.peer_disconnected_alert,
                                lt.metadata_received_alert, lt.torrent_finished_alert,
                                lt.state_changed_alert, lt.tracker_announce_alert)):
                log("alert %s: %s" % (type(a).__name__, a.message()))
    return out


def flush_to_disk(ses, h, timeout=30):
    """Wait until libtorrent has written every finished piece to its file. Finished means each
    piece passed its hash check: libtorrent 2.0 hashes blocks from its store buffer, which its disk
    threads write out later, and the os._exit this script ends with loses what they had not (a test
    comparing the file then found 16 KiB blocks of zeros)."""
    h.flush_cache()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(isinstance(a, lt.cache_flushed_alert) for a in drain_alerts(ses)):
            return
        ses.wait_for_alert(100)
    fail("no cache_flushed_alert within %d s of finishing" % timeout)


def parse_peer(s):
    host, _, port = s.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        fail("bad peer address: " + s, 2)
    return (host, int(port))


def v1_hex(ih):
    # ih is info_hash_t (2.0) or sha1_hash
    if hasattr(ih, "v1"):
        return str(ih.v1)
    return str(ih)


def stdin_watcher(stop):
    def run():
        try:
            while True:
                chunk = sys.stdin.buffer.read1(4096) if hasattr(sys.stdin.buffer, "read1") else sys.stdin.buffer.read(1)
                if not chunk:
                    break
        except Exception:
            pass
        stop.set()
    t = threading.Thread(target=run, daemon=True)
    t.start()


def wait_checked(ses, h, stop, timeout=120):
    """Block until libtorrent has finished checking the torrent's data on disk."""
    deadline = time.time() + timeout
    while True:
        for a in drain_alerts(ses):
            if isinstance(a, lt.torrent_checked_alert):
                return
            if isinstance(a, (lt.file_error_alert, lt.torrent_error_alert)):
                fail("torrent error while checking: " + a.message())
        if time.time() > deadline:
            fail("timed out checking files")
        if stop is not None and stop.is_set():
            os._exit(0)
        ses.wait_for_alert(100)


# ---------------------------------------------------------------- commands

def cmd_seed(argv):
    pos, opts = parse_args(argv, multi=("peer",))
    if len(pos) != 2:
        fail("usage: seed <torrent> <save_path> [--upload-rate B] [--port N]", 2)
    torrent, save_path = pos
    upload_rate = int(opts.get("upload-rate", "0"))
    ses, port = make_session(int(opts.get("port", "0")), upload_rate, seeding=True)
    emit({"event": "listening", "port": port})

    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save_path
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    h = ses.add_torrent(atp)
    if upload_rate > 0:
        h.set_upload_limit(upload_rate)
    for p in opts.get("peer", []):
        h.connect_peer(parse_peer(p))

    stop = threading.Event()
    stdin_watcher(stop)

    wait_checked(ses, h, stop)
    st = h.status()
    emit({"event": "checked", "progress": st.progress, "piecesHave": st.num_pieces,
          "numPieces": atp.ti.num_pieces()})
    if not st.is_seeding:
        fail("data incomplete after check: %d/%d pieces" % (st.num_pieces, atp.ti.num_pieces()))
    emit({"event": "seeding", "infoHash": v1_hex(atp.ti.info_hashes()), "port": port})

    last = 0.0
    seen = set()
    while not stop.is_set():
        drain_alerts(ses)
        # Every peer address the seeder exchanged with, once (tests check who connected to whom).
        for p in h.get_peer_info():
            if p.ip[0] not in seen:
                seen.add(p.ip[0])
                emit({"event": "peer", "address": p.ip[0]})
        now = time.time()
        if now - last > 1.0:
            last = now
            st = h.status()
            emit({"event": "stats", "uploaded": st.total_payload_upload, "peers": st.num_peers})
        stop.wait(0.05)
    return 0


def cmd_download(argv):
    pos, opts = parse_args(argv, multi=("peer",))
    if len(pos) != 2:
        fail("usage: download <torrent|magnet|infohash> <save_path> [--peer host:port]... [--timeout S]", 2)
    src, save_path = pos
    timeout = float(opts.get("timeout", "60"))
    ses, port = make_session(int(opts.get("port", "0")))
    emit({"event": "listening", "port": port})

    if src.startswith("magnet:"):
        atp = lt.parse_magnet_uri(src)
    elif len(src) == 40 and all(c in "0123456789abcdefABCDEF" for c in src):
        atp = lt.parse_magnet_uri("magnet:?xt=urn:btih:" + src)
    else:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(src)
    atp.save_path = save_path
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    h = ses.add_torrent(atp)
    peers = [parse_peer(p) for p in opts.get("peer", [])]
    for p in peers:
        h.connect_peer(p)

    stop = threading.Event()
    stdin_watcher(stop)

    start = time.time()
    deadline = start + timeout
    last_emit = 0.0
    last_connect = time.time()
    had_metadata = atp.ti is not None
    while True:
        for a in drain_alerts(ses):
            if isinstance(a, lt.metadata_received_alert):
                had_metadata = True
                emit({"event": "metadata", "name": h.status().name})
        st = h.status()
        if st.errc.value() != 0:
            fail("torrent error: " + st.errc.message())
        now = time.time()
        if st.has_metadata and st.is_finished and st.state in (lt.torrent_status.seeding, lt.torrent_status.finished):
            flush_to_disk(ses, h)
            emit({"event": "progress", "progress": st.progress, "downloaded": st.total_payload_download,
                  "peers": st.num_peers, "state": str(st.state)})
            emit({"event": "done", "infoHash": v1_hex(st.info_hashes) if hasattr(st, "info_hashes") else str(st.info_hash),
                  "downloaded": st.total_payload_download, "seconds": round(now - start, 3)})
            return 0
        if now - last_emit >= 0.5:
            last_emit = now
            emit({"event": "progress", "progress": st.progress if st.has_metadata else 0.0,
                  "downloaded": st.total_payload_download, "peers": st.num_peers, "state": str(st.state)})
        # Re-dial explicit peers if we have no connection (the peer may have dropped us).
        if peers and st.num_peers == 0 and now - last_connect > 2:
            last_connect = now
            for p in peers:
                h.connect_peer(p)
        if stop.is_set():
            fail("stdin closed before the download finished")
        if now > deadline:
            fail("timeout after %.0fs: progress %.3f, peers %d, metadata %s"
                 % (timeout, st.progress, st.num_peers, had_metadata))
        ses.wait_for_alert(100)


def torrent_summary(ti):
    fs = ti.files()
    files = [{"path": fs.file_path(i), "size": fs.file_size(i)} for i in range(fs.num_files())
             if not (fs.file_flags(i) & lt.file_storage.flag_pad_file)]
    return {
        "infoHash": v1_hex(ti.info_hashes()),
        "name": ti.name(),
        "files": files,
        "totalSize": ti.total_size(),
        "pieceLength": ti.piece_length(),
        "numPieces": ti.num_pieces(),
        "private": ti.priv(),
        "trackers": [t.url for t in ti.trackers()],
        "webSeeds": [w["url"] for w in ti.web_seeds()],
    }


def cmd_infohash(argv):
    pos, _ = parse_args(argv)
    if len(pos) != 1:
        fail("usage: infohash <torrent>", 2)
    emit(torrent_summary(lt.torrent_info(pos[0])))
    return 0


def cmd_create(argv):
    pos, opts = parse_args(argv, multi=("announce", "webseed"), flags=("private",))
    if len(pos) != 2 or "piece-length" not in opts:
        fail("usage: create <path> <out.torrent> --piece-length N [--announce URL]... [--private]", 2)
    path, out = pos
    path = os.path.abspath(path)
    piece_length = int(opts["piece-length"])
    fs = lt.file_storage()
    name = os.path.basename(path)
    if os.path.isdir(path):
        entries = []
        for root, dirs, files in os.walk(path):
            for f in files:
                full = os.path.join(root, f)
                rel = os.path.relpath(full, path)
                entries.append((rel.split(os.sep), full))
        # Sort by path components (same order as sorting by "/"-joined path for
        # the fixtures the tests use).
        entries.sort(key=lambda e: [c.encode("utf-8") for c in e[0]])
        for comps, full in entries:
            fs.add_file("/".join([name] + comps), os.path.getsize(full))
    else:
        fs.add_file(name, os.path.getsize(path))
    ct = lt.create_torrent(fs, piece_length, lt.create_torrent.v1_only)
    for i, url in enumerate(opts.get("announce", [])):
        ct.add_tracker(url, i)
    for url in opts.get("webseed", []):
        ct.add_url_seed(url)
    if opts.get("private"):
        ct.set_priv(True)
    lt.set_piece_hashes(ct, os.path.dirname(path))
    data = lt.bencode(ct.generate())
    with open(out, "wb") as f:
        f.write(data)
    ti = lt.torrent_info(out)
    emit({"event": "created", "infoHash": v1_hex(ti.info_hashes()), "torrent": out,
          "magnet": lt.make_magnet_uri(ti)})
    return 0


def cmd_check(argv):
    pos, _ = parse_args(argv)
    if len(pos) != 2:
        fail("usage: check <torrent> <save_path>", 2)
    ses, _port = make_session(0)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(pos[0])
    atp.save_path = pos[1]
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    h = ses.add_torrent(atp)
    wait_checked(ses, h, None)
    st = h.status()
    n = atp.ti.num_pieces()
    emit({"event": "checked", "progress": st.progress, "piecesHave": st.num_pieces, "numPieces": n})
    return 0 if st.num_pieces == n else 1


def main():
    if len(sys.argv) < 2:
        fail("usage: lt.py seed|download|infohash|create|check ...", 2)
    cmd = sys.argv[1]
    argv = sys.argv[2:]
    handlers = {"seed": cmd_seed, "download": cmd_download, "infohash": cmd_infohash,
                "create": cmd_create, "check": cmd_check}
    if cmd not in handlers:
        fail("unknown command " + cmd, 2)
    try:
        code = handlers[cmd](argv)
    except Exception as e:  # noqa: BLE001
        fail("%s: %s" % (type(e).__name__, e))
    sys.stdout.flush()
    # Skip the (slow) orderly session teardown.
    os._exit(code or 0)


if __name__ == "__main__":
    main()
