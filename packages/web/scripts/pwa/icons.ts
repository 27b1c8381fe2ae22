// The app's icons, drawn at build time from the favicon's bolt (the same path as index.html's SVG
// icon): no image files in git and no rasterizer dependency. A PNG is a few lines of zlib once the
// pixels are known, and the pixels are a polygon and a rounded square, supersampled for smooth edges.
import { crc32, deflateSync } from 'node:zlib';

/** The bolt in its 32×32 box: M6 6h20l-6 8h6L10 28l4-10H6z. */
const BOLT: [number, number][] = [
  [6, 6],
  [26, 6],
  [20, 14],
  [26, 14],
  [10, 28],
  [14, 18],
  [6, 18],
];

/** The app's accent (styles.css --accent, light theme) behind a white bolt. */
export const ICON_BACKGROUND = '#3b55d4';
const BOLT_COLOUR = '#ffffff';

export interface IconStyle {
  /** Corner radius as a fraction of the size: 0 fills the square (a maskable icon: the platform
   *  cuts its own shape out of it). */
  corner: number;
  /** The bolt's height as a fraction of the size (maskable icons keep it inside the central 80%). */
  bolt: number;
}

export const ANY_ICON: IconStyle = { corner: 0.22, bolt: 0.62 };
export const MASKABLE_ICON: IconStyle = { corner: 0, bolt: 0.46 };

function insidePolygon(x: number, y: number, poly: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function insideRoundedSquare(x: number, y: number, size: number, r: number): boolean {
  if (x < 0 || y < 0 || x > size || y > size) return false;
  const cx = Math.min(Math.max(x, r), size - r);
  const cy = Math.min(Math.max(y, r), size - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** RGBA pixels of the icon at `size`×`size`. */
export function iconPixels(size: number, style: IconStyle): Uint8Array {
  const SS = 4; // 4×4 samples per pixel
  const scale = (style.bolt * size) / 22; // the bolt is 22 units tall (y 6..28)
  // Centre the bolt's box (x 6..26, y 6..28) in the square.
  const ox = size / 2 - 16 * scale;
  const oy = size / 2 - 17 * scale;
  const poly = BOLT.map(([x, y]) => [ox + x * scale, oy + y * scale] as [number, number]);
  const radius = style.corner * size;
  const bg = rgb(ICON_BACKGROUND);
  const fg = rgb(BOLT_COLOUR);
  const xs = poly.map(([x]) => x);
  const ys = poly.map(([, y]) => y);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const out = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      // Only pixels near an edge need samples: most are plain background.
      const nearBolt = px + 1 >= minX && px <= maxX && py + 1 >= minY && py <= maxY;
      const nearCorner = (px < radius || px + 1 > size - radius) && (py < radius || py + 1 > size - radius);
      let inSquare = SS * SS;
      let inBolt = 0;
      if (nearBolt || nearCorner) {
        inSquare = 0;
        for (let sy = 0; sy < SS; sy++) {
          for (let sx = 0; sx < SS; sx++) {
            const x = px + (sx + 0.5) / SS;
            const y = py + (sy + 0.5) / SS;
            if (!insideRoundedSquare(x, y, size, radius)) continue;
            inSquare++;
            if (nearBolt && insidePolygon(x, y, poly)) inBolt++;
          }
        }
      }
      const o = (py * size + px) * 4;
      if (inSquare === 0) continue;
      const f = inBolt / inSquare;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(bg[c]! * (1 - f) + fg[c]! * f);
      out[o + 3] = Math.round((255 * inSquare) / (SS * SS));
    }
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A PNG (8-bit RGBA, no interlace) of `size`×`size` pixels. */
export function encodePng(size: number, rgba: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    rows[y * (size * 4 + 1)] = 0; // filter: none
    rows.set(rgba.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** The same icon as SVG (any size). */
export function iconSvg(style: IconStyle): string {
  const size = 512;
  const scale = (style.bolt * size) / 22;
  const ox = size / 2 - 16 * scale;
  const oy = size / 2 - 17 * scale;
  const points = BOLT.map(([x, y]) => `${+(ox + x * scale).toFixed(2)},${+(oy + y * scale).toFixed(2)}`).join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}"><rect width="${size}" height="${size}" rx="${style.corner * size}" fill="${ICON_BACKGROUND}"/><polygon points="${points}" fill="${BOLT_COLOUR}"/></svg>\n`;
}

export interface IconFile {
  fileName: string;
  source: Uint8Array | string;
}

/** Every icon the manifest and index.html name. */
export function iconFiles(): IconFile[] {
  const png = (name: string, size: number, style: IconStyle): IconFile => ({ fileName: `icons/${name}`, source: encodePng(size, iconPixels(size, style)) });
  return [
    png('icon-192.png', 192, ANY_ICON),
    png('icon-512.png', 512, ANY_ICON),
    png('maskable-192.png', 192, MASKABLE_ICON),
    png('maskable-512.png', 512, MASKABLE_ICON),
    // iOS rounds the corners itself and shows transparency as black: a full square.
    png('apple-touch-icon.png', 180, MASKABLE_ICON),
    { fileName: 'icons/icon.svg', source: iconSvg(ANY_ICON) },
  ];
}
