# A dual-stack libtorrent DHT node for the BEP 32 `want` tests: one DHT node on 127.0.0.1 and one on
# [::1], same port, nothing else (no torrents, no LSD, no UPnP). Prints JSON lines: {"port": n} once
# listening, {"peers": [...]} for each DHT get_peers reply that carried peers, and {"nodes": n}
# every half second. Commands on stdin: "dht <ip> <port>" (add a node), "get_peers <infohash hex>",
# "announce <infohash hex> <port>". Runs until stdin closes.
# Usage: /usr/bin/python3 lt_dht.py [router host:port]
import json, socket, sys, threading, time, warnings
import libtorrent as lt


def free_port():
    # One port free on both loopbacks, TCP and UDP (libtorrent listens on all four).
    while True:
        s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s4.bind(('127.0.0.1', 0))
        port = s4.getsockname()[1]
        others = []
        try:
            for fam, kind, host in [(socket.AF_INET6, socket.SOCK_DGRAM, '::1'), (socket.AF_INET, socket.SOCK_STREAM, '127.0.0.1'), (socket.AF_INET6, socket.SOCK_STREAM, '::1')]:
                o = socket.socket(fam, kind)
                others.append(o)
                o.bind((host, port))
            return port
        except OSError:
            pass
        finally:
            s4.close()
            for o in others:
                o.close()


warnings.simplefilter('ignore', DeprecationWarning)
port = free_port()
router = sys.argv[1] if len(sys.argv) > 1 else ''
ses = lt.session({
    'listen_interfaces': '127.0.0.1:%d,[::1]:%d' % (port, port),
    'enable_dht': True, 'dht_bootstrap_nodes': router,
    'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    # Every node here is on a loopback: libtorrent would keep one per /24 or /64 and ask only one.
    'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
    'dht_prefer_verified_node_ids': False,
    'alert_mask': lt.alert.category_t.dht_notification | lt.alert.category_t.dht_operation_notification | lt.alert.category_t.error_notification,
})
while ses.listen_port() == 0:
    time.sleep(0.05)
print(json.dumps({'port': port}), flush=True)


def commands():
    for line in sys.stdin:
        p = line.split()
        if len(p) == 3 and p[0] == 'dht':
            ses.add_dht_node((p[1], int(p[2])))
        elif len(p) == 2 and p[0] == 'get_peers':
            ses.dht_get_peers(lt.sha1_hash(bytes.fromhex(p[1])))
        elif len(p) == 3 and p[0] == 'announce':
            ses.dht_announce(lt.sha1_hash(bytes.fromhex(p[1])), int(p[2]), 0)
    done.set()


done = threading.Event()
threading.Thread(target=commands, daemon=True).start()
while not done.wait(0.5):
    for a in ses.pop_alerts():
        if isinstance(a, lt.dht_get_peers_reply_alert) and a.num_peers() > 0:
            print(json.dumps({'peers': ['%s:%d' % (h, pt) if ':' not in h else '[%s]:%d' % (h, pt) for h, pt in a.peers()]}), flush=True)
        else:
            print('alert', type(a).__name__, a.message(), file=sys.stderr, flush=True)
    print(json.dumps({'nodes': ses.status().dht_nodes}), flush=True)
