# Seeds one torrent with libtorrent on 127.0.0.1 (TCP only), prints "port <n>" once listening and
# "seeding" once the data checked out, and runs until stdin closes.
# Usage: /usr/bin/python3 lt_seed.py <file.torrent> <save_path> [upload bytes/s]
import sys, time, threading
import libtorrent as lt

settings = lt.high_performance_seed()
settings.update({
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'allow_multiple_connections_per_ip': True,
    'enable_incoming_utp': False, 'enable_outgoing_utp': False,
})
if len(sys.argv) > 3:
    settings['upload_rate_limit'] = int(sys.argv[3])
ses = lt.session(settings)
if len(sys.argv) > 3:
    # Loopback peers are in libtorrent's unlimited local class: put every address in the global one.
    classes = lt.ip_filter()
    classes.add_rule('0.0.0.0', '255.255.255.255', 1 << lt.session.global_peer_class_id)
    ses.set_peer_class_filter(classes)
info = lt.torrent_info(sys.argv[1])
h = ses.add_torrent({'ti': info, 'save_path': sys.argv[2]})
while ses.listen_port() == 0:
    time.sleep(0.05)
print('port', ses.listen_port(), flush=True)
while not h.status().is_seeding:
    time.sleep(0.05)
print('seeding', flush=True)
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
done.wait()
