# The crash harness's outside swarm: libtorrent (Debian's python3-libtorrent) seeding every torrent
# named on stdin ("<file.torrent> <save_path>" a line) from one session on 127.0.0.1, TCP only, at a
# capped upload rate, so the node under test is writing pieces when it is killed. Prints
# "port <n>" once listening and "seeding <infohash>" for each torrent once its data checked out;
# exits when stdin closes.
# Usage: /usr/bin/python3 seeder.py <upload bytes/s>
import sys, time, threading
import libtorrent as lt

settings = lt.high_performance_seed()
settings.update({
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'allow_multiple_connections_per_ip': True,
    'enable_incoming_utp': False, 'enable_outgoing_utp': False,
    'upload_rate_limit': int(sys.argv[1]),
})
ses = lt.session(settings)
# Loopback peers are in libtorrent's unlimited local class: put every address in the global one.
classes = lt.ip_filter()
classes.add_rule('0.0.0.0', '255.255.255.255', 1 << lt.session.global_peer_class_id)
ses.set_peer_class_filter(classes)
while ses.listen_port() == 0:
    time.sleep(0.05)
print('port', ses.listen_port(), flush=True)

lock = threading.Lock()
waiting = []

def watch():
    while True:
        with lock:
            for h in list(waiting):
                if h.status().is_seeding:
                    waiting.remove(h)
                    print('seeding', str(h.info_hash()), flush=True)
        time.sleep(0.05)

threading.Thread(target=watch, daemon=True).start()
for line in sys.stdin:
    parts = line.rstrip('\n').split('\t')
    if len(parts) != 2:
        continue
    h = ses.add_torrent({'ti': lt.torrent_info(parts[0]), 'save_path': parts[1]})
    with lock:
        waiting.append(h)
