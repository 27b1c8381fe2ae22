# libtorrent side of bench/limits: seeds or downloads one torrent on 127.0.0.1 with the given
# rate limits (session settings download_rate_limit / upload_rate_limit, bytes/s, 0 = none).
# Prints "port <n>", "seeding" (seed role, data checked), then every 0.25 s
# "stat <total_done> <download_rate> <upload_rate>" (payload bytes and bytes/s as libtorrent
# reports them), until stdin closes.
# Usage: lt_peer.py seed|download <file.torrent> <save_path> <down_limit> <up_limit> [peer_port]
import sys, time, threading
import libtorrent as lt

role, torrent, save_path = sys.argv[1], sys.argv[2], sys.argv[3]
down_limit, up_limit = int(sys.argv[4]), int(sys.argv[5])
peer_port = int(sys.argv[6]) if len(sys.argv) > 6 else 0

settings = lt.high_performance_seed()
settings.update({
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'allow_multiple_connections_per_ip': True,
    'enable_incoming_utp': False, 'enable_outgoing_utp': False,
    # Cascade answers plaintext: no MSE attempt first (it would cost a second at the start).
    'out_enc_policy': 2, 'in_enc_policy': 1,
    'download_rate_limit': down_limit, 'upload_rate_limit': up_limit,
    # Payload against payload: Cascade limits payload bytes, so libtorrent does not count headers.
    'rate_limit_ip_overhead': False,
})
ses = lt.session(settings)
# libtorrent exempts peers on local networks (loopback included) from its rate limits: put every
# address in the global peer class so the limits apply here as they would on the internet.
classes = lt.ip_filter()
classes.add_rule('0.0.0.0', '255.255.255.255', 1 << lt.session.global_peer_class_id)
ses.set_peer_class_filter(classes)
h = ses.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save_path})
while ses.listen_port() == 0:
    time.sleep(0.05)
print('port', ses.listen_port(), flush=True)
if role == 'seed':
    while not h.status().is_seeding:
        time.sleep(0.05)
    print('seeding', flush=True)
if peer_port:
    h.connect_peer(('127.0.0.1', peer_port))

done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
while not done.wait(0.25):
    s = h.status()
    print('stat', s.total_done, s.download_payload_rate, s.upload_payload_rate, flush=True)
