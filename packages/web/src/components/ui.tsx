// Small shared building blocks.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import QRCode from 'qrcode';
import { IconCopy } from './icons.tsx';
import { formatPercent } from '../format/format.ts';

export function ProgressBar({ value, state, label }: { value: number; state?: string; label?: string }) {
  const pct = Math.max(0, Math.min(1, value || 0)) * 100;
  return (
    <div
      className={`progress progress-${state ?? 'default'}`}
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(pct)}
      aria-label={label ?? 'progress'}
    >
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function IndeterminateBar({ label }: { label: string }) {
  return (
    <div className="progress progress-indeterminate" role="progressbar" aria-label={label}>
      <div className="progress-fill" />
    </div>
  );
}

const STATE_LABEL: Record<string, string> = {
  metadata: 'Fetching metadata',
  checking: 'Checking',
  downloading: 'Downloading',
  seeding: 'Seeding',
  paused: 'Paused',
  error: 'Error',
  queued: 'Queued',
  done: 'Done',
};

export function StateBadge({ state, checkWaiting }: { state: string; checkWaiting?: boolean | undefined }) {
  return (
    <span className={`badge badge-${state}`} data-testid="torrent-state" data-state={state}>
      {state === 'checking' && checkWaiting ? 'Waiting to check' : (STATE_LABEL[state] ?? state)}
    </span>
  );
}

export function TransportBadge({ transport, relayed }: { transport: string; relayed?: boolean | undefined }) {
  const t = transport.toLowerCase();
  const label = t === 'tcp' ? 'TCP' : t === 'webrtc' ? 'WebRTC' : t === 'webseed' ? 'Web seed' : transport;
  return (
    <>
      <span className={`badge badge-transport badge-${t}`}>{label}</span>
      {relayed && (
        <span className="badge badge-relayed" data-testid="peer-relayed" title="This connection passes through a TURN relay: both sides are behind strict NATs. It works, but is slower than a direct one.">
          relayed
        </span>
      )}
    </>
  );
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API needs a secure context; fall back to a hidden textarea.
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {}
    ta.remove();
    return ok;
  }
}

export function CopyButton({ text, label = 'Copy', testId }: { text: string; label?: string; testId?: string }) {
  const [done, setDone] = useState<'idle' | 'ok' | 'fail'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <button
      type="button"
      className="btn"
      data-testid={testId}
      onClick={async () => {
        const ok = await copyText(text);
        setDone(ok ? 'ok' : 'fail');
        clearTimeout(timer.current);
        timer.current = setTimeout(() => setDone('idle'), 1800);
      }}
    >
      <IconCopy />
      <span>{done === 'ok' ? 'Copied' : done === 'fail' ? 'Select & copy' : label}</span>
    </button>
  );
}

export function QrCode({ text, size = 184 }: { text: string; size?: number }) {
  const [url, setUrl] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(text, { margin: 1, width: size * 2, errorCorrectionLevel: 'M', color: { dark: '#111827', light: '#ffffff' } })
      .then((u) => live && setUrl(u))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [text, size]);
  if (error) return <div className="qr qr-error">QR code unavailable: {error}</div>;
  return (
    <div className="qr" style={{ width: size, height: size }}>
      {url && <img src={url} width={size} height={size} alt="QR code of the magnet link" data-testid="magnet-qr" />}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-title">{title}</div>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

export function Stat({ label, value, testId }: { label: string; value: ReactNode; testId?: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
}

export function Pct({ value }: { value: number }) {
  return <span className="num">{formatPercent(value)}</span>;
}

/** Triggers a browser download of a Blob (or URL) under `name`. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A file picker that is also a drop target. */
export function DropZone({
  onFiles,
  accept,
  multiple = true,
  testId,
  title,
  hint,
  disabled,
}: {
  onFiles: (files: File[]) => void;
  accept?: string;
  multiple?: boolean;
  testId: string;
  title: string;
  hint?: ReactNode;
  disabled?: boolean;
}) {
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  return (
    <label
      className={`dropzone${over ? ' dropzone-over' : ''}${disabled ? ' dropzone-disabled' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        if (disabled) return;
        const files = [...e.dataTransfer.files];
        if (files.length > 0) onFiles(multiple ? files : files.slice(0, 1));
      }}
    >
      <input
        ref={input}
        type="file"
        data-testid={testId}
        accept={accept}
        multiple={multiple}
        disabled={disabled}
        onChange={(e) => {
          const files = [...(e.currentTarget.files ?? [])];
          e.currentTarget.value = '';
          if (files.length > 0) onFiles(files);
        }}
      />
      <div className="dropzone-title">{title}</div>
      {hint && <div className="dropzone-hint">{hint}</div>}
    </label>
  );
}
