# Downloads one torrent with libtorrent on 127.0.0.1 (TCP only) from the peers given, prints
# "progress <0..1>" now and then, "done" once it is seeding, and runs until stdin closes.
# Usage: /usr/bin/python3 lt_fetch.py <file.torrent | magnet> <save_path> <host:port>...
import sys, time, threading
import libtorrent as lt

settings = {
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'allow_multiple_connections_per_ip': True, 'min_reconnect_time': 1,
    'enable_incoming_utp': False, 'enable_outgoing_utp': False,
    'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.storage_notification,
}
ses = lt.session(settings)
src, save = sys.argv[1], sys.argv[2]
if src.startswith('magnet:'):
    atp = lt.parse_magnet_uri(src)
    atp.save_path = save
else:
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(src)
    atp.save_path = save
h = ses.add_torrent(atp)
for p in sys.argv[3:]:
    host, port = p.rsplit(':', 1)
    h.connect_peer((host, int(port)))
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
last = time.time()
while not done.is_set():
    s = h.status()
    if s.is_seeding:
        # Seeding means every piece passed its hash check, not that it is in the file: libtorrent
        # 2.0 hashes from its store buffer, which its disk threads write out later, and the test
        # reads the file as soon as it hears 'done'.
        h.flush_cache()
        deadline = time.time() + 30
        while time.time() < deadline and not any(isinstance(a, lt.cache_flushed_alert) for a in ses.pop_alerts()):
            ses.wait_for_alert(100)
        print('done', flush=True)
        done.wait()
        break
    if time.time() - last > 1:
        last = time.time()
        print('progress', s.progress, s.num_peers, flush=True)
        for p in sys.argv[3:]:
            if s.num_peers == 0:
                host, port = p.rsplit(':', 1)
                h.connect_peer((host, int(port)))
    for a in ses.pop_alerts():
        if isinstance(a, (lt.hash_failed_alert, lt.peer_disconnected_alert, lt.torrent_error_alert, lt.peer_error_alert)):
            print('alert', a.what(), a.message(), flush=True)
    time.sleep(0.05)
