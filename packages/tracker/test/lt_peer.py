"""libtorrent peer for the tracker interop tests (run with /usr/bin/python3, which has libtorrent).

  lt_peer.py make <file> <tracker_url> <out.torrent>   v1 torrent of one file, announcing to the tracker
  lt_peer.py seed <torrent> <dir>                       prints "seeding <port>", runs until stdin closes
  lt_peer.py download <torrent> <dir> <timeout_s>       prints "done" when complete and runs until stdin
                                                        closes; exit 1 on timeout
"""
import os
import sys
import threading
import time

import libtorrent as lt


def session():
    # Tracker-only discovery on loopback: everything else would find peers without the tracker.
    return lt.session({
        'listen_interfaces': '127.0.0.1:0',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'allow_multiple_connections_per_ip': True,
        'announce_to_all_tiers': True,
        'announce_to_all_trackers': True,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.tracker_notification | lt.alert.category_t.storage_notification,
    })


def log_alerts(ses):
    for a in ses.pop_alerts():
        print('alert', type(a).__name__, a.message(), file=sys.stderr, flush=True)


def make(path, tracker, out):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    # aria2 only speaks v1; libtorrent 2 would otherwise make a hybrid v1+v2 torrent.
    t = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
    t.add_tracker(tracker)
    lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(path)))
    with open(out, 'wb') as f:
        f.write(lt.bencode(t.generate()))


def wait_for_stdin_close(ses, h):
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    while not stop.wait(0.2):
        log_alerts(ses)
    # Interpreter exit tears the session down too abruptly for the UDP `stopped` announce to go out.
    ses.remove_torrent(h)
    deadline = time.time() + 3
    while time.time() < deadline:
        alerts = ses.pop_alerts()
        for a in alerts:
            print('alert', type(a).__name__, a.message(), file=sys.stderr, flush=True)
        if any(isinstance(a, lt.torrent_removed_alert) for a in alerts):
            break
        time.sleep(0.05)
    time.sleep(0.5)


def seed(torrent, directory):
    ses = session()
    h = ses.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': directory})
    while not h.status().is_seeding:
        log_alerts(ses)
        time.sleep(0.05)
    # The started announce may have gone out while still checking (left > 0): tell the tracker we seed.
    h.force_reannounce()
    print('seeding', ses.listen_port(), flush=True)
    wait_for_stdin_close(ses, h)


def download(torrent, directory, timeout):
    ses = session()
    h = ses.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': directory})
    deadline = time.time() + float(timeout)
    while time.time() < deadline:
        log_alerts(ses)
        if h.status().is_seeding:
            # Seeding means each piece passed its hash check, not that it is in the file (libtorrent
            # 2.0 hashes from its store buffer and writes it out later); the test reads the file next.
            h.flush_cache()
            flushed = time.time() + 30
            while time.time() < flushed and not any(isinstance(a, lt.cache_flushed_alert) for a in ses.pop_alerts()):
                ses.wait_for_alert(100)
            # Stay up so the tracker can be seen counting us as a seed before `stopped`.
            print('done', flush=True)
            wait_for_stdin_close(ses, h)
            return 0
        time.sleep(0.1)
    print('timeout', h.status().progress, file=sys.stderr, flush=True)
    return 1


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'make':
        make(*args)
    elif cmd == 'seed':
        seed(*args)
    elif cmd == 'download':
        sys.exit(download(*args))
