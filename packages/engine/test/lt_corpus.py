# Reads .torrent files with libtorrent and prints one JSON line per file: what libtorrent makes of
# it (the verdict, infohashes, name, every file's path, size, flags and symlink target), for
# torrent-corpus.test.ts to compare with Cascade's parser. One process for the whole corpus.
# Usage: /usr/bin/python3 lt_corpus.py <file.torrent>...
import json, sys
import libtorrent as lt

FLAGS = (('pad', 1), ('hidden', 2), ('executable', 4), ('symlink', 8))

for path in sys.argv[1:]:
    out = {'file': path}
    try:
        ti = lt.torrent_info(path)
    except Exception as err:  # libtorrent raises RuntimeError with its error_code message
        out.update(ok=False, error=str(err))
    else:
        fs = ti.files()
        hashes = ti.info_hashes()
        files = []
        for i in range(fs.num_files()):
            flags = int(fs.file_flags(i))
            f = {'path': fs.file_path(i), 'size': fs.file_size(i), 'flags': [n for n, bit in FLAGS if flags & bit]}
            if flags & 8:
                f['target'] = fs.symlink(i)
            files.append(f)
        out.update(
            ok=True,
            v1=str(hashes.v1) if hashes.has_v1() else None,
            v2=str(hashes.v2) if hashes.has_v2() else None,
            name=ti.name(),
            size=ti.total_size(),
            pieces=ti.num_pieces(),
            files=files,
        )
    print(json.dumps(out), flush=True)
