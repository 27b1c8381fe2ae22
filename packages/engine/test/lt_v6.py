# libtorrent on IPv6 for the IPv6 tests: listens on [::1] only (so nothing it does can go over IPv4),
# with its DHT on when asked. Prints JSON lines: {"port": n} once listening, {"seeding": true} /
# {"done": true}, {"peers": [...]} every half second: the addresses of every peer it has talked
# BitTorrent with so far (connected now, or gone after a handshake).
# Commands on stdin, one a line: "peer <ip> <port>" (connect), "dht <ip> <port>" (add a DHT node),
# "magnet <uri> <save_path>" (add by magnet, for DHT look-ups); it runs until stdin closes.
# Usage: /usr/bin/python3 lt_v6.py seed|download|idle <file.torrent or -> <save_path> [dht]
# (LT_LISTEN in the environment: other listen_interfaces, e.g. '127.0.0.1:0,[::1]:0')
import json, os, sys, threading, time
import libtorrent as lt

mode, torrent, save = sys.argv[1], sys.argv[2], sys.argv[3]
dht = len(sys.argv) > 4 and sys.argv[4] == 'dht'
settings = {
    'listen_interfaces': os.environ.get('LT_LISTEN', '[::1]:0'),
    'enable_dht': dht, 'dht_bootstrap_nodes': '',
    'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'enable_incoming_utp': False, 'enable_outgoing_utp': False,
    'allow_multiple_connections_per_ip': True,
    'min_reconnect_time': 1,
    # Every node here is ::1: libtorrent would keep one of them per /64 and ask only one.
    'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
    'dht_prefer_verified_node_ids': False,
    'dht_announce_interval': 2,
    'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.tracker_notification | lt.alert.category_t.connect_notification,
}
ses = lt.session(settings)
handles = []
if torrent != '-':
    handles.append(ses.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save}))
while ses.listen_port() == 0:
    time.sleep(0.05)
print(json.dumps({'port': ses.listen_port()}), flush=True)

def commands():
    for line in sys.stdin:
        parts = line.split()
        if len(parts) == 3 and parts[0] == 'peer':
            for h in handles:
                h.connect_peer((parts[1], int(parts[2])))
        elif len(parts) == 3 and parts[0] == 'dht':
            ses.add_dht_node((parts[1], int(parts[2])))
        elif len(parts) == 3 and parts[0] == 'magnet':
            p = lt.parse_magnet_uri(parts[1])
            p.save_path = parts[2]
            handles.append(ses.add_torrent(p))
    done.set()

done = threading.Event()
threading.Thread(target=commands, daemon=True).start()
said = set()
seen = set()
while not done.wait(0.5):
    for a in ses.pop_alerts():
        print('alert', type(a).__name__, a.message(), file=sys.stderr, flush=True)
        # A peer that finished quickly is gone before the next look at the peer list.
        if isinstance(a, lt.peer_disconnected_alert) and a.pid != lt.sha1_hash():
            seen.add('[%s]:%d' % (a.endpoint[0], a.endpoint[1]))
    for h in handles:
        s = h.status()
        if s.is_seeding and 'seeding' not in said and mode == 'seed':
            said.add('seeding')
            print(json.dumps({'seeding': True}), flush=True)
        if s.is_seeding and 'done' not in said and mode != 'seed' and s.has_metadata:
            said.add('done')
            print(json.dumps({'done': True}), flush=True)
    seen.update('[%s]:%d' % (p.ip[0], p.ip[1]) for h in handles for p in h.get_peer_info())
    print(json.dumps({'peers': sorted(seen), 'dhtNodes': ses.status().dht_nodes}), flush=True)
