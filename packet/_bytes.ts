/**
 * Big-endian byte access shared by the header codecs (private: not exported from
 * packet/index.ts).
 *
 * Promises: every reader returns an unsigned integer (`>>> 0` for 32-bit words);
 * writers store the low bits of the value and touch nothing else. They do not check
 * bounds — callers validate lengths first, as each codec does.
 */

export function rd16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

export function rd32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

export function wr16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

export function wr32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** A fresh copy of `len` bytes at `off` (slow-path decoders hand out owned bytes). */
export function copyBytes(buf: Uint8Array, off: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  out.set(buf.subarray(off, off + len));
  return out;
}

/** Writes `len` bytes of `src` at `off`, zero-filling if `src` is shorter. */
export function putBytes(buf: Uint8Array, off: number, src: Uint8Array, len: number): void {
  const n = Math.min(len, src.length);
  buf.set(n === src.length ? src : src.subarray(0, n), off);
  if (n < len) buf.fill(0, off + n, off + len);
}
