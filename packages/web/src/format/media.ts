// Which files the page can play in an <audio> or <video> (by name, as the node types them).

const VIDEO = new Set(['mp4', 'm4v', 'webm', 'mkv', 'mov', 'ogv']);
const AUDIO = new Set(['mp3', 'm4a', 'aac', 'ogg', 'oga', 'opus', 'flac', 'wav']);

export type MediaKind = 'video' | 'audio';

export function mediaKind(path: string): MediaKind | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return VIDEO.has(ext) ? 'video' : AUDIO.has(ext) ? 'audio' : undefined;
}

/** A MediaError's code as words a person can act on. */
export function mediaErrorText(code: number | undefined): string {
  switch (code) {
    case 1:
      return 'playback was stopped';
    case 2:
      return 'the file could not be fetched from the node';
    case 3:
      return 'the file is damaged or not what its name says';
    case 4:
      return 'this browser cannot play this format (try Save and a desktop player)';
    default:
      return 'it cannot be played here';
  }
}
