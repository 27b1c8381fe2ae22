#!/usr/bin/python3
"""uTP throughput on loopback: libtorrent -> libtorrent and libtorrent -> Cascade, TCP off on the
libtorrent ends so every byte crosses uTP (BEP 29). A benchmark, not a test: run it alone.

Run from the project root:  /usr/bin/python3 bench/utp/run.py [--mib 256]
Prints MB/s (wall time of the downloader's whole process, start-up included) for each pair.
"""
import argparse, os, shutil, subprocess, sys, tempfile, threading, time
import libtorrent as lt

ap = argparse.ArgumentParser()
ap.add_argument('--mib', type=int, default=256)
a = ap.parse_args()
cascade = os.path.abspath('node_modules/.bin/cascade')
UTP_ONLY = {
    'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False,
    'enable_natpmp': False, 'enable_outgoing_tcp': False, 'enable_incoming_tcp': False,
    'enable_outgoing_utp': True, 'enable_incoming_utp': True, 'allow_multiple_connections_per_ip': True,
}
tmp = tempfile.mkdtemp(prefix='bench-utp-')
try:
    data = os.path.join(tmp, 'data')
    os.makedirs(data)
    subprocess.run('head -c %dM /dev/urandom > %s' % (a.mib, os.path.join(data, 'payload.bin')), shell=True, check=True)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(data, 'payload.bin'))
    ct = lt.create_torrent(fs, 1 << 20)
    lt.set_piece_hashes(ct, data)
    torrent = os.path.join(tmp, 'p.torrent')
    open(torrent, 'wb').write(lt.bencode(ct.generate()))
    total = a.mib << 20

    seed_settings = lt.high_performance_seed()
    seed_settings.update(UTP_ONLY)
    seeder = lt.session(seed_settings)
    h = seeder.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': data})
    while not h.status().is_seeding or seeder.listen_port() == 0:
        time.sleep(0.05)
    port = seeder.listen_port()
    # Keep the seeder's alerts drained while the downloaders run.
    threading.Thread(target=lambda: [seeder.pop_alerts() or time.sleep(0.2) for _ in iter(int, 1)], daemon=True).start()

    def lt_get(out):
        ses = lt.session(UTP_ONLY)
        g = ses.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': out})
        g.connect_peer(('127.0.0.1', port))
        while not g.status().is_seeding:
            time.sleep(0.02)
            ses.pop_alerts()
        del ses

    def cascade_get(out):
        subprocess.run([cascade, 'download', torrent, '-o', out, '--peer', '127.0.0.1:%d' % port, '--no-dht',
                        '--port', '0', '--state-dir', out + '.state'], check=True, capture_output=True, timeout=900)

    for name, fn in (('lt->lt (uTP)', lt_get), ('lt->cascade (uTP)', cascade_get)):
        out = os.path.join(tmp, name.split()[0].replace('>', ''))
        t0 = time.time()
        fn(out)
        wall = time.time() - t0
        ok = os.path.getsize(os.path.join(out, 'payload.bin')) == total
        print('%-18s %7.1f MB/s  %5.1f s%s' % (name, total / wall / 1e6, wall, '' if ok else '  (incomplete!)'), flush=True)
        shutil.rmtree(out, ignore_errors=True)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
