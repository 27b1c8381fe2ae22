# The reference: libtorrent (python3-libtorrent, default settings: active_checking 1) adds every
# .torrent in DIR/torrents with its data in DIR/data and waits until each is seeding.
# Prints one JSON line as check.ts does.
import json, os, resource, sys, time
import libtorrent as lt

d = sys.argv[1]
ses = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
                  'enable_upnp': False, 'enable_natpmp': False, 'alert_mask': 0})
t0 = time.monotonic()
r0 = resource.getrusage(resource.RUSAGE_SELF)
handles = []
for f in sorted(os.listdir(os.path.join(d, 'torrents'))):
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(os.path.join(d, 'torrents', f))
    p.save_path = os.path.join(d, 'data')
    handles.append(ses.add_torrent(p))  # default flags: auto-managed, so its checks queue (active_checking)
CHECKING = (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data)
def done(h):
    s = h.status()
    return s.state not in CHECKING and s.progress == 1
while not all(done(h) for h in handles):
    time.sleep(0.02)
ms = (time.monotonic() - t0) * 1000
r = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({'ms': ms, 'peakRss': r.ru_maxrss * 1024, 'cpuS': r.ru_utime + r.ru_stime - r0.ru_utime - r0.ru_stime,
                  'complete': sum(1 for h in handles if h.status().progress == 1)}))
