/**
 * IP addresses as sim/ holds them: a family flag and four 32-bit words (IPv4 in word 0,
 * IPv6 most significant word first, as packet/ and the flow key pack them), parsed once
 * from the text a topology author writes.
 *
 * Promises: parsing returns undefined on bad text (callers turn that into an error that
 * names their object); comparisons and prefix tests allocate nothing.
 */
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "./_packet.js";

export interface IpAddress {
  readonly v6: boolean;
  /** IPv4: words[0]; IPv6: words[0..3]. Other words are zero. */
  readonly words: Uint32Array;
}

export interface IpPrefix {
  readonly address: IpAddress;
  /** Prefix length in bits. */
  readonly length: number;
}

/** "10.0.0.1" or "fd00::1" → IpAddress, or undefined. */
export function parseIp(text: string): IpAddress | undefined {
  const words = new Uint32Array(4);
  if (text.includes(":")) return parseIpv6(text, words, 0) ? { v6: true, words } : undefined;
  const v4 = parseIpv4(text);
  if (v4 === undefined) return undefined;
  words[0] = v4;
  return { v6: false, words };
}

/** "10.0.0.1/24" → the address and its prefix length, or undefined. */
export function parsePrefix(text: string): IpPrefix | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > (address.v6 ? 128 : 32)) return undefined;
  return { address, length };
}

export function formatIp(a: IpAddress): string {
  return a.v6 ? formatIpv6(a.words, 0) : formatIpv4(a.words[0]);
}

/** An IPv4 address from one word. */
export function ipv4(word: number): IpAddress {
  const words = new Uint32Array(4);
  words[0] = word >>> 0;
  return { v6: false, words };
}

/** Whether `w[at..]` (4 words) equals address `a` (IPv4 compares word 0 only). */
export function ipEqualsWords(a: IpAddress, v6: boolean, w: Uint32Array, at: number): boolean {
  if (a.v6 !== v6) return false;
  const x = a.words;
  if (!v6) return x[0] === w[at];
  return x[0] === w[at] && x[1] === w[at + 1] && x[2] === w[at + 2] && x[3] === w[at + 3];
}

/** Whether the 4 words at `w[at..]` fall in `net`/`length` (of the same family). */
export function inPrefixWords(net: IpAddress, length: number, w: Uint32Array, at: number): boolean {
  const n = net.words;
  let bits = length;
  for (let i = 0; bits > 0; i++, bits -= 32) {
    const mask = bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    if (((n[i] ^ w[at + i]) & mask) !== 0) return false;
  }
  return true;
}
