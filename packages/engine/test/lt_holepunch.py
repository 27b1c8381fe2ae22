# python3-libtorrent for the BEP 55 lab test (holepunch.lab.test.ts), run inside a namespace.
#   lt_holepunch.py <seed|download|broker> <file.torrent> <save_path> <listen_port> [host:port]...
# broker: TCP and uTP both ways (it sits outside every NAT); seed and download: uTP only, so that
# a peer it cannot reach is asked of a broker after one uTP timeout (libtorrent asks only when a
# uTP dial fails with outgoing TCP off, or when a TCP dial fails).
# JSON lines on stdout: {"event":"listening"}, then twice a second
# {"event":"status","progress","peers":[{"ip","port","utp","holepunched","down","up"}]}.
# Exits when stdin closes.
import json, sys, threading, time
import libtorrent as lt

mode, torrent, save, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
peers = sys.argv[5:]
behind_nat = mode != 'broker'
ses = lt.session({
    'listen_interfaces': '0.0.0.0:%d' % port,
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'enable_outgoing_tcp': not behind_nat, 'enable_incoming_tcp': True,
    'enable_outgoing_utp': True, 'enable_incoming_utp': True,
    'utp_connect_timeout': 1500, 'min_reconnect_time': 1, 'peer_connect_timeout': 3,
    # A seed slow enough that the broker (a downloader too) is not done, and gone, at once.
    'upload_rate_limit': 256 * 1024 if mode == 'seed' else 0,
    # The broker downloads slowly: once done it drops the seed (two seeds have nothing to say),
    # and a rendezvous that comes after that (a loaded machine) is refused as not connected.
    'download_rate_limit': 64 * 1024 if mode == 'broker' else 0,
    'alert_mask': 0,
})
h = ses.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save})
for p in peers:
    host, pp = p.rsplit(':', 1)
    h.connect_peer((host, int(pp)))
print(json.dumps({'event': 'listening', 'port': ses.listen_port()}), flush=True)

done = threading.Event()
def read():
    for _ in sys.stdin:
        pass
    done.set()
threading.Thread(target=read, daemon=True).start()

last_dial = time.time()
while not done.wait(0.5):
    s = h.status()
    out = []
    for p in h.get_peer_info():
        out.append({'ip': p.ip[0], 'port': p.ip[1], 'utp': bool(p.flags & (1 << 17)), 'holepunched': bool(p.flags & (1 << 15)),
                    'down': p.total_download, 'up': p.total_upload})
    print(json.dumps({'event': 'status', 'progress': s.progress, 'seeding': s.is_seeding, 'peers': out}), flush=True)
    # The broker's address is dialled again while no connection to it stands (it is how the
    # NATed ends join); libtorrent would wait out its reconnect timers otherwise.
    if peers and time.time() - last_dial > 2 and not any('%s:%d' % (q['ip'], q['port']) in peers for q in out):
        last_dial = time.time()
        for p in peers:
            host, pp = p.rsplit(':', 1)
            h.connect_peer((host, int(pp)))
