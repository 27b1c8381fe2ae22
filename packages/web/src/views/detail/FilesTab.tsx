// The detail panel's Files tab: which files to download, their progress, open / save each, and
// play audio and video right in the panel (an <audio>/<video> streaming the file with HTTP Range
// from the node, also while the torrent is still downloading it).
import { useState } from 'react';
import { api, fileUrl, type FileInfo, type TorrentDetailView } from '../../api/api.ts';
import { formatBytes, formatPercent } from '../../format/format.ts';
import { Empty, ProgressBar } from '../../components/ui.tsx';
import { IconDownload, IconPlay, IconPlayCircle, IconX } from '../../components/icons.tsx';
import { mediaErrorText, mediaKind } from '../../format/media.ts';

export function FilesTab({ detail, onChanged }: { detail: TorrentDetailView; onChanged: () => Promise<void> }) {
  const [pending, setPending] = useState<Set<number>>();
  const [error, setError] = useState<string>();
  const [playing, setPlaying] = useState<number>();
  if (detail.files.length === 0) return <Empty title="No file list yet">The file list appears once the metadata has arrived.</Empty>;
  const selected = pending ?? new Set(detail.files.filter((f) => f.selected).map((f) => f.index));

  const apply = async (next: Set<number>) => {
    setPending(next);
    setError(undefined);
    try {
      await api.selectFiles(detail.infoHashHex, [...next].sort((a, b) => a - b));
      await onChanged();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setPending(undefined);
    }
  };

  const all = detail.files.every((f) => selected.has(f.index));
  return (
    <div>
      {error && <div className="alert alert-error">{error}</div>}
      {playing !== undefined && detail.files.some((f) => f.index === playing) && (
        <MediaPlayer
          key={playing}
          infoHash={detail.infoHashHex}
          file={detail.files.find((f) => f.index === playing)!}
          subtitles={subtitlesFor(detail.files.find((f) => f.index === playing)!, detail.files)}
          onClose={() => setPlaying(undefined)}
        />
      )}
      <label className="check select-all">
        <input type="checkbox" checked={all} onChange={() => apply(all ? new Set() : new Set(detail.files.map((f) => f.index)))} />
        {all ? 'All files selected' : `${selected.size} of ${detail.files.length} selected`}
      </label>
      {storageOf(detail.raw) && (
        <div className="file-cid mono small muted" title="This torrent's files are kept in an S3-compatible bucket, not on the node's disk" data-testid="torrent-storage">
          stored in {storageOf(detail.raw)!.url} on {storageOf(detail.raw)!.endpoint}
        </div>
      )}
      {typeof detail.raw?.unixfsCid === 'string' && (
        <div className="file-cid mono small muted" title="IPFS CID of the torrent's folder as a UnixFS directory: /ipfs/<it>/<file path> reaches each file" data-testid="folder-unixfs-cid">
          ipfs folder {detail.raw.unixfsCid}
        </div>
      )}
      <ul className="file-list">
        {detail.files.map((f) => (
          <FileRow
            key={f.index}
            f={f}
            infoHash={detail.infoHashHex}
            selected={selected.has(f.index)}
            playing={playing === f.index}
            onPlay={() => setPlaying(f.index)}
            onToggle={() => {
              const next = new Set(selected);
              if (next.has(f.index)) next.delete(f.index);
              else next.add(f.index);
              void apply(next);
            }}
          />
        ))}
      </ul>
    </div>
  );
}

// What a browser tab shows itself (the node serves other types, HTML and SVG included, as downloads).
const VIEWABLE = /\.(mp4|m4v|webm|mkv|mov|mp3|m4a|ogg|oga|opus|wav|flac|aac|png|jpe?g|gif|webp|avif|pdf|txt|md|json|srt|vtt)$/i;

function FileRow({
  f,
  infoHash,
  selected,
  playing,
  onPlay,
  onToggle,
}: {
  f: FileInfo;
  infoHash: string;
  selected: boolean;
  playing: boolean;
  onPlay: () => void;
  onToggle: () => void;
}) {
  const base = f.path.split('/').pop() ?? f.path;
  const kind = mediaKind(base);
  return (
    <li className="file-row" data-testid="file-row">
      <label className="check file-check" title={selected ? 'Download this file' : 'Skip this file'}>
        <input type="checkbox" checked={selected} onChange={onToggle} aria-label={`Download ${f.path}`} />
      </label>
      <div className="file-main">
        <div className="file-name" title={f.path}>{f.path}</div>
        <div className="file-sub">
          <ProgressBar value={f.progress} state={f.progress >= 1 ? 'seeding' : 'downloading'} label={`${f.path} progress`} />
          <span className="muted small num">
            {formatPercent(f.progress)} of {formatBytes(f.length)}
          </span>
        </div>
        {f.cid && (
          <div className="file-cid mono small muted" title="Content id: this file's SHA-256 as a CIDv1 — search for it or download by it" data-testid="file-cid">
            {f.cid}
          </div>
        )}
        {f.unixfsCid && f.unixfsCid !== f.cid && (
          <div className="file-cid mono small muted" title="IPFS CID: this file's UnixFS root as @helia/unixfs names it (CIDv1, raw leaves, 1 MiB chunks) — fetch it from this node's /ipfs/ or any IPFS gateway that has it" data-testid="file-unixfs-cid">
            ipfs {f.unixfsCid}
          </div>
        )}
      </div>
      <div className="file-actions">
        {kind && (
          <button type="button" className={`icon-btn${playing ? ' active' : ''}`} onClick={onPlay} title={`Play here (${kind})`} aria-label={`Play ${f.path}`} aria-pressed={playing} data-testid="torrent-play">
            <IconPlay />
          </button>
        )}
        <a className="icon-btn" href={fileUrl(infoHash, f.index)} target="_blank" rel="noopener" title={VIEWABLE.test(base) ? 'Open in a new tab' : 'Open (downloads it: a tab cannot show this type)'} aria-label={`Open ${f.path} in a new tab`} data-testid="file-open">
          <IconPlayCircle />
        </a>
        <a className="icon-btn" href={fileUrl(infoHash, f.index, true)} download={base} title="Save" aria-label={`Save ${f.path}`} data-testid="file-save">
          <IconDownload />
        </a>
      </div>
    </li>
  );
}


/** The in-panel player: the browser's own <video>/<audio> streaming the file from the node (Range
 *  requests; the node waits for pieces still downloading, so it buffers instead of failing). */
/** WebVTT files beside a video that share its name ("film.vtt", "film.en.vtt"): its subtitles. */
export function subtitlesFor(video: FileInfo, files: FileInfo[]): { file: FileInfo; lang: string | undefined }[] {
  const stem = video.path.replace(/\.[^./]+$/, '');
  return files
    .filter((f) => f.path.toLowerCase().endsWith('.vtt') && f.path.startsWith(stem))
    .map((f) => {
      const middle = f.path.slice(stem.length, -'.vtt'.length);
      const m = /^\.([a-z]{2,3}(?:-[a-z0-9]+)?)$/i.exec(middle);
      return middle === '' || m ? { file: f, lang: m?.[1] } : undefined;
    })
    .filter((x): x is { file: FileInfo; lang: string | undefined } => x !== undefined);
}

function MediaPlayer({
  infoHash,
  file,
  subtitles,
  onClose,
}: {
  infoHash: string;
  file: FileInfo;
  subtitles: { file: FileInfo; lang: string | undefined }[];
  onClose: () => void;
}) {
  const [failure, setFailure] = useState<string>();
  const kind = mediaKind(file.path) ?? 'video';
  const props = {
    src: fileUrl(infoHash, file.index),
    controls: true,
    autoPlay: true,
    preload: 'auto',
    'data-testid': 'media-player',
    'aria-label': `Playing ${file.path}`,
    onError: (e: { currentTarget: HTMLMediaElement }) => setFailure(mediaErrorText(e.currentTarget.error?.code)),
  };
  return (
    <div className={`media-box media-${kind}`} data-testid="media-box">
      <div className="media-head">
        <span className="media-title" title={file.path}>
          {file.path}
          {file.progress < 1 && <span className="muted small"> · {formatPercent(file.progress)} downloaded, plays as it arrives</span>}
        </span>
        <button type="button" className="icon-btn" onClick={onClose} aria-label="Close the player" data-testid="media-close">
          <IconX />
        </button>
      </div>
      {kind === 'video' ? (
        <video {...props} playsInline>
          {subtitles.map((sub, i) => (
            <track key={sub.file.index} kind="subtitles" src={fileUrl(infoHash, sub.file.index)} srcLang={sub.lang} label={sub.lang ?? 'Subtitles'} default={i === 0} />
          ))}
        </video>
      ) : (
        <audio {...props} />
      )}
      {failure && (
        <div className="alert alert-error" data-testid="media-error">
          Cannot play {file.path}: {failure}.
        </div>
      )}
    </div>
  );
}

/** The detail's `storage` (issue 61): a bucket and its store's host, or undefined on the disk. */
function storageOf(raw: Record<string, unknown> | undefined): { url: string; endpoint: string } | undefined {
  const s = raw?.storage as { url?: unknown; endpoint?: unknown } | null | undefined;
  return s && typeof s.url === 'string' && typeof s.endpoint === 'string' ? { url: s.url, endpoint: s.endpoint } : undefined;
}
