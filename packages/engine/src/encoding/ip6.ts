// IPv6 addresses between text and the 16 bytes compact forms carry (BEP 7 peers6, BEP 11 added6,
// BEP 32 nodes6, BEP 10 ipv6 and yourip). Platform-free.

/** 16 bytes of an IPv6 address in text (with '::', a dotted IPv4 tail, or a %zone, ignored);
 *  throws on anything else. */
export function ipv6Bytes(text: string): Uint8Array {
  const s = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const out = new Uint8Array(16);
  const halves = s.split('::');
  if (halves.length > 2) throw new Error(`not an IPv6 address: ${text}`);
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const items = part.split(':');
    const nums: number[] = [];
    items.forEach((g, i) => {
      if (i === items.length - 1 && g.includes('.')) {
        const v4 = g.split('.').map(Number);
        if (v4.length !== 4 || v4.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`not an IPv6 address: ${text}`);
        nums.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(g)) throw new Error(`not an IPv6 address: ${text}`);
        nums.push(parseInt(g, 16));
      }
    });
    return nums;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) throw new Error(`not an IPv6 address: ${text}`);
  const all = [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 255;
  });
  return out;
}

/** RFC 5952 text of the 16 bytes at `off`: lowercase, no leading zeros, the longest run of two or
 *  more zero groups as '::' (so one peer from two sources dedupes by its text). IPv4-mapped
 *  addresses keep their dotted tail (::ffff:1.2.3.4), as Node writes them. */
export function ipv6Text(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Whether a host string is an IPv6 literal (a colon is enough: hosts are addresses or names). */
export function isV6Host(host: string): boolean {
  return host.includes(':');
}
