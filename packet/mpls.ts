/**
 * MPLS label stack entries (RFC 3032 §2.1): label (20 bits), traffic class (3, RFC
 * 5462), bottom-of-stack S (1), TTL (8), one 32-bit word each.
 *
 * Promises: MplsView reads one entry in place; `decodeMplsStack` walks entries until
 * the S bit; encoders check every field's range. It does not guess the payload type
 * beneath the stack (OVS records it in the mpls actions, not in the packet).
 */
import { rd32, wr32 } from "./_bytes.js";
import { HeaderView } from "./_view.js";
import { checkRange, needBytes, needRoom, PacketErrorCode } from "./errors.js";

export const MPLS_HLEN = 4;
export const MPLS_LABEL_MAX = 0xfffff;
export const MPLS_LABEL_SHIFT = 12;
export const MPLS_TC_SHIFT = 9;
export const MPLS_BOS_SHIFT = 8;

export interface MplsFields {
  label: number;
  /** Traffic class, 0..7. Default 0. */
  tc?: number;
  /** Bottom of stack, 0 or 1. */
  bos: number;
  ttl: number;
}

/** The 32-bit label stack entry for `f`. */
export function mplsLse(f: MplsFields): number {
  checkRange("MPLS", "label", f.label, MPLS_LABEL_MAX);
  checkRange("MPLS", "tc", f.tc ?? 0, 7);
  checkRange("MPLS", "bos", f.bos, 1);
  checkRange("MPLS", "ttl", f.ttl, 0xff);
  return (
    ((f.label << MPLS_LABEL_SHIFT) |
      ((f.tc ?? 0) << MPLS_TC_SHIFT) |
      (f.bos << MPLS_BOS_SHIFT) |
      f.ttl) >>>
    0
  );
}

export class MplsView extends HeaderView {
  /** RFC 3032 §2.1: each label stack entry is 4 octets. */
  validate(): PacketErrorCode | undefined {
    return this.end - this.off < MPLS_HLEN ? PacketErrorCode.TRUNCATED : undefined;
  }

  get lse(): number {
    return rd32(this.buf, this.off);
  }
  set lse(v: number) {
    wr32(this.buf, this.off, v);
  }
  get label(): number {
    return this.lse >>> MPLS_LABEL_SHIFT;
  }
  get tc(): number {
    return (this.buf[this.off + 2] >>> 1) & 7;
  }
  get bos(): number {
    return this.buf[this.off + 2] & 1;
  }
  get ttl(): number {
    return this.buf[this.off + 3];
  }
  set ttl(v: number) {
    this.buf[this.off + 3] = v;
  }
}

export function decodeMpls(
  buf: Uint8Array,
  off = 0,
  end: number = buf.length,
): Required<MplsFields> {
  needBytes("MPLS", end, off, MPLS_HLEN);
  const lse = rd32(buf, off);
  return {
    label: lse >>> MPLS_LABEL_SHIFT,
    tc: (lse >>> MPLS_TC_SHIFT) & 7,
    bos: (lse >>> MPLS_BOS_SHIFT) & 1,
    ttl: lse & 0xff,
  };
}

/** Entries from `off` up to and including the first with S = 1 (RFC 3032 §2.1). */
export function decodeMplsStack(
  buf: Uint8Array,
  off = 0,
  end: number = buf.length,
): Required<MplsFields>[] {
  const out: Required<MplsFields>[] = [];
  for (;;) {
    const e = decodeMpls(buf, off, end);
    out.push(e);
    off += MPLS_HLEN;
    if (e.bos) return out;
  }
}

export function encodingLengthMpls(_fields?: MplsFields): number {
  return MPLS_HLEN;
}

export function encodeMpls(f: MplsFields, buf: Uint8Array, off = 0): number {
  needRoom("MPLS", buf, off, MPLS_HLEN);
  wr32(buf, off, mplsLse(f));
  return off + MPLS_HLEN;
}
