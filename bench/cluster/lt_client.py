#!/usr/bin/python3
"""A libtorrent client for bench:cluster (bench/cluster/client.ts): downloads one torrent from the
cluster's holders at a capped rate and prints where it stands every SAMPLE_MS. JSON lines on stdout.

Run with /usr/bin/python3 (python3-libtorrent 2.0.x is only importable there).

  lt_client.py <torrent> <save_path> <rate_bytes_per_s> <host:port>...
      -> {"event":"listening","port"}, {"event":"added"},
         {"event":"sample","t":ms,"downloaded":bytes,"peers":n} every SAMPLE_MS,
         {"event":"done","t":ms,"downloaded":bytes}, then exits.

The session is bench/swarm's lt_peer.py's (TCP on 127.0.0.1, DHT/LSD/UPnP/NAT-PMP off): imported, not
copied. The cap (a per-torrent download limit, which libtorrent applies to local peers too) makes
the download last long enough for a holder to be killed half way; the samples are what the harness
measures the stall and the rates before and after the kill from. When no peer is left it dials the
given addresses again every second, as a client with a list of peers does.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "swarm"))
import lt_peer  # noqa: E402  (bench/swarm/lt_peer.py: make_session, add, parse_peer, emit, fail…)
import libtorrent as lt  # noqa: E402

SAMPLE_MS = 100


def main():
    if len(sys.argv) < 5 or not sys.argv[3].isdigit():
        lt_peer.fail("usage: lt_client.py <torrent> <save_path> <rate_bytes_per_s> <host:port>...")
    torrent, save_path, rate = sys.argv[1], sys.argv[2], int(sys.argv[3])
    peers = [lt_peer.parse_peer(p) for p in sys.argv[4:]]
    ses, port = lt_peer.make_session()
    lt_peer.emit({"event": "listening", "port": port})
    h, _ = lt_peer.add(ses, torrent, save_path)
    h.set_download_limit(rate)
    lt_peer.emit({"event": "added"})
    for p in peers:
        h.connect_peer(p)
    last_sample = 0.0
    last_dial = time.time()
    while True:
        alerts = ses.pop_alerts()
        lt_peer.check_errors(alerts)
        now = time.time()
        st = h.status()
        if now - last_sample >= SAMPLE_MS / 1000:
            last_sample = now
            lt_peer.emit({"event": "sample", "t": int(now * 1000), "downloaded": st.total_payload_download, "peers": st.num_peers})
        if any(isinstance(a, lt.torrent_finished_alert) for a in alerts) or st.is_seeding:
            lt_peer.emit({"event": "done", "t": int(now * 1000), "downloaded": st.total_payload_download})
            lt_peer.finish(0)
        if st.num_peers < len(peers) and now - last_dial >= 1.0:
            last_dial = now
            for p in peers:
                h.connect_peer(p)
        ses.wait_for_alert(20)


if __name__ == "__main__":
    main()
