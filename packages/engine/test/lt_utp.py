# One libtorrent session speaking uTP only (TCP off both ways), driven by lines on stdin so that
# one process serves every subtest. Prints "port <n>" once listening, then per command:
#   seed <file.torrent> <save_path>              -> "seeding <infohash>"
#   fetch <file.torrent> <save_path> <host:port> -> "done <infohash>" once complete
#   encryption <forced|disabled|enabled>         -> "ok"
# Exits when stdin closes. Usage: /usr/bin/python3 lt_utp.py
import sys, time, threading, queue
import libtorrent as lt

ses = lt.session({
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'allow_multiple_connections_per_ip': True, 'min_reconnect_time': 1,
    'enable_outgoing_tcp': False, 'enable_incoming_tcp': False,
    'enable_outgoing_utp': True, 'enable_incoming_utp': True,
    'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.peer_notification | lt.alert.category_t.connect_notification | lt.alert.category_t.storage_notification,
})
while ses.listen_port() == 0:
    time.sleep(0.05)
print('port', ses.listen_port(), flush=True)

commands = queue.Queue()
def read():
    for line in sys.stdin:
        commands.put(line.split())
    commands.put(None)
threading.Thread(target=read, daemon=True).start()

seeding, fetching, flushing = {}, {}, {}
while True:
    try:
        cmd = commands.get(timeout=0.1)
    except queue.Empty:
        cmd = []
    if cmd is None:
        break
    if cmd and cmd[0] in ('seed', 'fetch'):
        info = lt.torrent_info(cmd[1])
        h = ses.add_torrent({'ti': info, 'save_path': cmd[2]})
        ih = str(info.info_hash())
        if cmd[0] == 'seed':
            seeding[ih] = h
        else:
            host, port = cmd[3].rsplit(':', 1)
            fetching[ih] = (h, (host, int(port)), time.time())
            h.connect_peer((host, int(port)))
    elif cmd and cmd[0] == 'encryption':
        pol = {'forced': lt.enc_policy.forced, 'disabled': lt.enc_policy.disabled, 'enabled': lt.enc_policy.enabled}[cmd[1]]
        ses.apply_settings({'out_enc_policy': pol, 'in_enc_policy': pol, 'allowed_enc_level': lt.enc_level.both if cmd[1] != 'forced' else lt.enc_level.rc4})
        print('ok', flush=True)
    for ih, h in list(seeding.items()):
        if h.status().is_seeding:
            print('seeding', ih, flush=True)
            del seeding[ih]
    for ih, (h, peer, last) in list(fetching.items()):
        s = h.status()
        if s.is_seeding:
            # Seeding means every piece passed its hash check, not that it is in the file: libtorrent
            # 2.0 hashes from its store buffer and writes it out later, and the test reads the file
            # at 'done' (said once the cache is flushed).
            h.flush_cache()
            flushing[ih] = h
            del fetching[ih]
        elif time.time() - last > 1:
            fetching[ih] = (h, peer, time.time())
            print('progress', ih, round(s.progress, 3), s.num_peers, flush=True)
            if s.num_peers == 0:
                h.connect_peer(peer)
    for a in ses.pop_alerts():
        if isinstance(a, lt.cache_flushed_alert):
            for ih, h in list(flushing.items()):
                if a.handle == h:
                    print('done', ih, flush=True)
                    del flushing[ih]
        if isinstance(a, (lt.peer_error_alert, lt.torrent_error_alert, lt.hash_failed_alert, lt.peer_disconnected_alert, lt.peer_connect_alert)):
            print('alert', a.message(), flush=True)
