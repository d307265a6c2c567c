/**
 * MAC, IPv4 and IPv6 addresses as text: parsing and printing in the exact forms OVS
 * prints them (lib/packets.c eth_format_masked, ip_format_masked, ipv6_format_masked).
 *
 * Representation follows flow-key.ts: a MAC is a 16-bit high word and a 32-bit low
 * word, an IPv4 address one unsigned 32-bit word, an IPv6 address four words, most
 * significant first.
 *
 * Promises
 * - IPv6 text is what glibc's inet_ntop() prints (which OVS calls): lower-case hex,
 *   no leading zeros, the longest run of two or more zero groups (the first such run
 *   on a tie) written `::`, and `::ffff:a.b.c.d` / `::a.b.c.d` for IPv4-mapped and
 *   IPv4-compatible addresses (glibc's rule: zeros in groups 0-4 then ffff, or zeros
 *   in groups 0-5, with the last two groups not both zero in the latter case).
 * - Parsers accept what OVS's flow syntax accepts and return `undefined` (or false)
 *   on bad text: a bad address is an expected outcome for a parser, not an exception.
 *
 * It does not resolve names and does not handle IPv6 zone ids.
 */

const HEX = "0123456789abcdef";

function hex2(v: number): string {
  return HEX[(v >>> 4) & 0xf] + HEX[v & 0xf];
}

/** `aa:bb:cc:dd:ee:ff` from the (hi16, lo32) pair. */
export function formatMac(hi: number, lo: number): string {
  return `${hex2(hi >>> 8)}:${hex2(hi)}:${hex2(lo >>> 24)}:${hex2(lo >>> 16)}:${hex2(lo >>> 8)}:${hex2(lo)}`;
}

/**
 * OVS's eth_format_masked(): the address alone when the mask is all ones, else
 * `address/mask`.
 */
export function formatMacMasked(hi: number, lo: number, maskHi: number, maskLo: number): string {
  if ((maskHi & 0xffff) === 0xffff && maskLo >>> 0 === 0xffffffff) return formatMac(hi, lo);
  return `${formatMac(hi, lo)}/${formatMac(maskHi, maskLo)}`;
}

const MAC_RE =
  /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/;

/**
 * Parses `aa:bb:cc:dd:ee:ff` (one or two hex digits per byte, as OVS's ETH_ADDR_SCAN
 * accepts) into `[hi16, lo32]`, or `undefined`.
 */
export function parseMac(text: string): [number, number] | undefined {
  const m = MAC_RE.exec(text);
  if (!m) return undefined;
  const v = m.slice(1).map((h) => Number.parseInt(h, 16));
  return [(v[0] << 8) | v[1], ((v[2] << 24) | (v[3] << 16) | (v[4] << 8) | v[5]) >>> 0];
}

/** Dotted quad of an unsigned 32-bit address. */
export function formatIpv4(addr: number): string {
  return `${(addr >>> 24) & 0xff}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Length of the prefix if `mask` is a CIDR mask (ones then zeros), else -1. */
export function ipv4CidrLength(mask: number): number {
  const m = mask >>> 0;
  const inv = ~m >>> 0;
  // Ones-then-zeros means the inverted mask is 2^k - 1.
  if ((inv & (inv + 1)) !== 0) return -1;
  return 32 - (inv === 0 ? 0 : 32 - Math.clz32(inv));
}

/**
 * OVS's ip_format_masked(): `a.b.c.d` for an exact mask, `a.b.c.d/len` for a CIDR
 * mask, `a.b.c.d/m.m.m.m` otherwise.
 */
export function formatIpv4Masked(addr: number, mask: number): string {
  const m = mask >>> 0;
  if (m === 0xffffffff) return formatIpv4(addr);
  const len = ipv4CidrLength(m);
  return len >= 0 ? `${formatIpv4(addr)}/${len}` : `${formatIpv4(addr)}/${formatIpv4(m)}`;
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted quad into an unsigned 32-bit address, or `undefined`. */
export function parseIpv4(text: string): number | undefined {
  const m = IPV4_RE.exec(text);
  if (!m) return undefined;
  let addr = 0;
  for (let i = 1; i <= 4; i++) {
    const v = Number(m[i]);
    if (v > 255) return undefined;
    addr = addr * 256 + v;
  }
  return addr;
}

/** The eight 16-bit groups of the address at `words[at..at+3]`. */
function groups(words: ArrayLike<number>, at: number): number[] {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = words[at + i] >>> 0;
    g.push(w >>> 16, w & 0xffff);
  }
  return g;
}

/** RFC 5952 text of the IPv6 address in `words[at..at+3]`, as glibc's inet_ntop(). */
export function formatIpv6(words: ArrayLike<number>, at = 0): string {
  const g = groups(words, at);
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (g[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else {
        curLen++;
      }
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else {
      curBase = -1;
      curLen = 0;
    }
  }
  if (bestLen < 2) bestBase = -1;

  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
      out += `${g[6] >>> 8}.${g[6] & 0xff}.${g[7] >>> 8}.${g[7] & 0xff}`;
      return out;
    }
    out += g[i].toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ":";
  return out;
}

/** Length of the prefix if the four mask words are a CIDR mask, else -1. */
export function ipv6CidrLength(mask: ArrayLike<number>, at = 0): number {
  let len = 0;
  let i = 0;
  for (; i < 4; i++) {
    const m = mask[at + i] >>> 0;
    if (m === 0xffffffff) {
      len += 32;
      continue;
    }
    const l = ipv4CidrLength(m);
    if (l < 0) return -1;
    len += l;
    i++;
    break;
  }
  for (; i < 4; i++) if (mask[at + i] >>> 0 !== 0) return -1;
  return len;
}

/**
 * OVS's ipv6_format_masked(): the address alone for an exact mask, `addr/len` for a
 * CIDR mask, `addr/mask` otherwise.
 */
export function formatIpv6Masked(
  words: ArrayLike<number>,
  at: number,
  mask: ArrayLike<number>,
  maskAt: number,
): string {
  const len = ipv6CidrLength(mask, maskAt);
  if (len === 128) return formatIpv6(words, at);
  return len >= 0
    ? `${formatIpv6(words, at)}/${len}`
    : `${formatIpv6(words, at)}/${formatIpv6(mask, maskAt)}`;
}

/**
 * Parses IPv6 text (RFC 4291 section 2.2, including `::` and a trailing dotted quad)
 * into `out[at..at+3]`. Returns false, leaving `out` unchanged, on bad text.
 */
export function parseIpv6(text: string, out: Uint32Array, at = 0): boolean {
  if (text.length === 0 || text.length > 45) return false;
  const g: number[] = [];
  let tail = text;
  const dotted = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  let v4: number | undefined;
  if (dotted) {
    v4 = parseIpv4(dotted[1]);
    if (v4 === undefined) return false;
    tail = text.slice(0, text.length - dotted[1].length);
    if (!tail.endsWith(":")) return false;
    if (!tail.endsWith("::")) tail = tail.slice(0, -1);
  }
  const halves = tail.split("::");
  if (halves.length > 2) return false;
  const parse = (s: string): number[] | undefined => {
    if (s === "") return [];
    const parts = s.split(":");
    const r: number[] = [];
    for (const part of parts) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
      r.push(Number.parseInt(part, 16));
    }
    return r;
  };
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !rest) return false;
  const want = v4 === undefined ? 8 : 6;
  if (halves.length === 2) {
    if (head.length + rest.length > want - 1) return false;
    g.push(...head);
    for (let i = head.length + rest.length; i < want; i++) g.push(0);
    g.push(...rest);
  } else {
    if (head.length !== want) return false;
    g.push(...head);
  }
  if (v4 !== undefined) g.push(v4 >>> 16, v4 & 0xffff);
  for (let i = 0; i < 4; i++) out[at + i] = ((g[2 * i] << 16) | g[2 * i + 1]) >>> 0;
  return true;
}
