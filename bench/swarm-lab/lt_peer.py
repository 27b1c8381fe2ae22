#!/usr/bin/python3
"""A libtorrent peer for the swarm lab (python3-libtorrent, Debian's /usr/bin/python3).

  lt_peer.py --torrent T [--torrent T2 ...] --dir D [--seed] [--stay] [--every 0.25] [--no-queue]

Runs inside a lab namespace with libtorrent's default settings, except that DHT, LSD, UPnP and
NAT-PMP are off; it listens on 0.0.0.0:6881 (the namespace's own address) and finds peers through the
torrent's tracker. Prints JSON lines on stdout:
  {"event":"listening","port":N}
  {"event":"progress","t":unix_s,"torrents":[{"i":k,"progress":p,"pieces":n,"numPieces":m,
     "down":payload_bytes_in,"up":payload_bytes_out,"redundant":b,"failed":b,"peers":n,"state":s}]}
  {"event":"done","i":k,"t":unix_s,"down":..,"up":..,"redundant":..,"failed":..,"sources":[..]}   once per torrent
     (sources, and a seed's progress rows' "sent": each connected peer's payload to and from it)
  {"event":"seeding"}   (with --seed, once every torrent checked complete)
--no-queue: the torrents are not auto-managed (libtorrent's queue, active_downloads 3 / active_seeds 5,
leaves none of them waiting). --seed: the data is in D already (checked, then seeded). Without --stay a downloader exits once every
torrent is complete; with it (or --seed) it stays until SIGTERM or stdin EOF.
"""
import json
import os
import signal
import sys
import threading
import time

import libtorrent as lt


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def peers_copies(h, n):
    counts = [0] * n
    for p in h.get_peer_info():
        for i, has in enumerate(p.pieces):
            if has and i < n:
                counts[i] += 1
    if n == 0:
        return 0.0
    least = min(counts)
    return least + sum(1 for c in counts if c > least) / n


UTP_SOCKET = 1 << 17  # peer_info::utp_socket (libtorrent 2.0), not exported by the Python binding


def per_peer(h):
    """Payload to and from each connected peer (what a trace reads: whom a peer served, who served it)."""
    return [{"address": "%s:%d" % (p.ip[0], p.ip[1]), "downloaded": p.total_download, "uploaded": p.total_upload,
             "client": p.client.decode("utf-8", "replace"), "utp": bool(int(p.flags) & UTP_SOCKET),
             "outgoing": bool(p.flags & p.outgoing_connection)}
            for p in h.get_peer_info()]


def main():
    args = sys.argv[1:]
    torrents, d, seed, stay, every, queue = [], None, False, False, 0.25, True
    super_seed = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--torrent":
            torrents.append(args[i + 1]); i += 2
        elif a == "--dir":
            d = args[i + 1]; i += 2
        elif a == "--every":
            every = float(args[i + 1]); i += 2
        elif a == "--seed":
            seed = True; i += 1
        elif a == "--stay":
            stay = True; i += 1
        elif a == "--no-queue":
            queue = False; i += 1
        elif a == "--super-seed":
            super_seed = True; i += 1
        else:
            emit({"event": "error", "message": "unknown argument " + a}); os._exit(2)
    if not torrents or not d:
        emit({"event": "error", "message": "usage: lt_peer.py --torrent T --dir D [--seed] [--stay]"}); os._exit(2)

    s = lt.default_settings()
    s.update({
        "listen_interfaces": "0.0.0.0:6881",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
        "user_agent": "swarm-lab-lt/" + lt.__version__,
    })
    ses = lt.session(s)
    emit({"event": "listening", "port": ses.listen_port()})

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:
            pass
        stop.set()
    threading.Thread(target=watch_stdin, daemon=True).start()

    handles = []
    for t in torrents:
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(t)
        p.save_path = d
        if not queue:
            p.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
        if super_seed:
            p.flags |= lt.torrent_flags.super_seeding
        handles.append(ses.add_torrent(p))

    done = [False] * len(handles)
    announced_seeding = False
    while not stop.is_set():
        ses.pop_alerts()
        now = time.time()
        rows = []
        for k, h in enumerate(handles):
            st = h.status()
            row = {"i": k, "progress": st.progress, "pieces": st.num_pieces, "numPieces": h.torrent_file().num_pieces(),
                   "down": st.total_payload_download, "up": st.total_payload_upload,
                   "redundant": st.total_redundant_bytes, "failed": st.total_failed_bytes,
                   "peers": st.num_peers, "state": str(st.state), "copies": st.distributed_copies}
            if seed:
                # A seed's libtorrent reports no distributed copies (its picker is gone): count them
                # from its peers' bitfields, as libtorrent's picker would (rarest count + the share above it).
                row["copies"] = peers_copies(h, row["numPieces"])
                row["sent"] = per_peer(h)
            rows.append(row)
            complete = st.is_seeding or (st.is_finished and st.num_pieces == row["numPieces"])
            if complete and not done[k] and st.state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
                done[k] = True
                if not seed:
                    emit({"event": "done", "i": k, "t": now, "down": row["down"], "up": row["up"],
                          "redundant": row["redundant"], "failed": row["failed"], "sources": per_peer(h)})
        emit({"event": "progress", "t": now, "torrents": rows})
        if seed and all(done) and not announced_seeding:
            announced_seeding = True
            emit({"event": "seeding"})
        if all(done) and not seed and not stay:
            break
        stop.wait(every)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
