/**
 * IEEE 802.2 LLC header and the SNAP extension (RFC 1042), carried by 802.3 frames
 * whose type field is a length (< 0x600).
 *
 * Layout: DSAP, SSAP, control (1 byte for U-format, 2 for I- and S-format, 802.2
 * §5.2), then — when DSAP = SSAP = 0xAA and control = 0x03 — a 3-byte OUI and a 2-byte
 * EtherType. OVS reads dl_type from SNAP only when the OUI is zero, else uses
 * FLOW_DL_TYPE_NONE (lib/flow.c parse_ethertype); `snapEthertype` encodes that rule.
 *
 * Promises: LlcView allocates nothing. It does not interpret the LLC payload.
 */
import { rd16, wr16 } from "./_bytes.js";
import { HeaderView } from "./_view.js";
import {
  checkRange,
  needBytes,
  needRoom,
  PacketErrorCode,
  PacketMalformedError,
} from "./errors.js";
import { FLOW_DL_TYPE_NONE } from "./ethertype.js";

export const LLC_SAP_SNAP = 0xaa;
export const LLC_CNTL_UI = 0x03;
export const LLC_HEADER_LEN = 3;
export const SNAP_HEADER_LEN = 5;
export const LLC_SNAP_HEADER_LEN = LLC_HEADER_LEN + SNAP_HEADER_LEN;

export interface SnapFields {
  /** 24-bit organisationally unique identifier; 0 means the type is an EtherType. */
  oui: number;
  type: number;
}

export interface LlcFields {
  dsap: number;
  ssap: number;
  /** 8-bit for U-format (low two bits 11), 16-bit for I-/S-format. */
  control: number;
  /** Present iff dsap = ssap = 0xAA and control = 0x03. */
  snap?: SnapFields;
}

/** 802.2 §5.2: control is one octet only for unnumbered (U) format PDUs. */
function controlLen(firstControlByte: number): number {
  return (firstControlByte & 3) === 3 ? 1 : 2;
}

export class LlcView extends HeaderView {
  /** 802.2 §3.2 and RFC 1042: the header, plus SNAP when announced, fits. */
  validate(): PacketErrorCode | undefined {
    const left = this.end - this.off;
    if (left < LLC_HEADER_LEN) return PacketErrorCode.TRUNCATED;
    return left < this.headerLen ? PacketErrorCode.TRUNCATED : undefined;
  }

  get dsap(): number {
    return this.buf[this.off];
  }
  get ssap(): number {
    return this.buf[this.off + 1];
  }
  get isSnap(): boolean {
    return (
      this.buf[this.off] === LLC_SAP_SNAP &&
      this.buf[this.off + 1] === LLC_SAP_SNAP &&
      this.buf[this.off + 2] === LLC_CNTL_UI
    );
  }
  /** LLC (and SNAP) header length in bytes. */
  get headerLen(): number {
    if (this.isSnap) return LLC_SNAP_HEADER_LEN;
    return 2 + controlLen(this.buf[this.off + 2]);
  }
  get oui(): number {
    return (this.buf[this.off + 3] << 16) | (this.buf[this.off + 4] << 8) | this.buf[this.off + 5];
  }
  /** OVS's dl_type for this frame: the SNAP EtherType if OUI is 0, else 0x5ff. */
  get snapEthertype(): number {
    if (!this.isSnap || this.oui !== 0) return FLOW_DL_TYPE_NONE;
    const t = rd16(this.buf, this.off + 6);
    return t >= 0x600 ? t : FLOW_DL_TYPE_NONE;
  }
}

export function decodeLlc(buf: Uint8Array, off = 0, end: number = buf.length): LlcFields {
  needBytes("LLC", end, off, LLC_HEADER_LEN);
  const dsap = buf[off];
  const ssap = buf[off + 1];
  if (dsap === LLC_SAP_SNAP && ssap === LLC_SAP_SNAP && buf[off + 2] === LLC_CNTL_UI) {
    needBytes("LLC/SNAP", end, off, LLC_SNAP_HEADER_LEN);
    const oui = (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5];
    return { dsap, ssap, control: LLC_CNTL_UI, snap: { oui, type: rd16(buf, off + 6) } };
  }
  if (controlLen(buf[off + 2]) === 1) return { dsap, ssap, control: buf[off + 2] };
  needBytes("LLC", end, off, 4);
  return { dsap, ssap, control: rd16(buf, off + 2) };
}

export function encodingLengthLlc(f: LlcFields): number {
  if (f.snap) return LLC_SNAP_HEADER_LEN;
  return f.control > 0xff || (f.control & 3) !== 3 ? 4 : 3;
}

export function encodeLlc(f: LlcFields, buf: Uint8Array, off = 0): number {
  const len = encodingLengthLlc(f);
  needRoom("LLC", buf, off, len);
  checkRange("LLC", "dsap", f.dsap, 0xff);
  checkRange("LLC", "ssap", f.ssap, 0xff);
  buf[off] = f.dsap;
  buf[off + 1] = f.ssap;
  if (f.snap) {
    // RFC 1042: SNAP rides on DSAP = SSAP = 0xAA with a UI control byte.
    if (f.dsap !== LLC_SAP_SNAP || f.ssap !== LLC_SAP_SNAP || f.control !== LLC_CNTL_UI)
      throw new PacketMalformedError(
        PacketErrorCode.BAD_FIELD,
        "LLC/SNAP",
        "SNAP needs dsap 0xaa, ssap 0xaa and control 0x03",
      );
    checkRange("SNAP", "oui", f.snap.oui, 0xffffff);
    checkRange("SNAP", "type", f.snap.type, 0xffff);
    buf[off + 2] = LLC_CNTL_UI;
    buf[off + 3] = f.snap.oui >>> 16;
    buf[off + 4] = (f.snap.oui >>> 8) & 0xff;
    buf[off + 5] = f.snap.oui & 0xff;
    wr16(buf, off + 6, f.snap.type);
  } else if (len === 3) {
    buf[off + 2] = f.control;
  } else {
    checkRange("LLC", "control", f.control, 0xffff);
    // I-/S-format: the first control octet's low bits decide the format, so keep them.
    if (((f.control >>> 8) & 3) === 3)
      throw new PacketMalformedError(
        PacketErrorCode.BAD_FIELD,
        "LLC",
        `16-bit control 0x${f.control.toString(16)} has a U-format first octet`,
      );
    wr16(buf, off + 2, f.control);
  }
  return off + len;
}
