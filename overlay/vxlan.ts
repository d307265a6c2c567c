/**
 * VXLAN header codec (RFC 7348 §5): 8 bytes after the outer UDP header.
 *
 *   flags(8) reserved(24) | VNI(24) reserved(8)
 *
 * Promises: `vxlanCheck` and `vxlanVni` read in place and never throw or allocate (the
 * receive path); `decodeVxlan` / `encodeVxlan` / `encodingLengthVxlan` are the
 * dns-packet-style trio for everything else. Acceptance is OVS's (lib/netdev-native-tnl.c
 * vxlan_extract_md): flags exactly I, reserved VNI byte zero. GBP and GPE are not spoken.
 */
import { OVERLAY_DROP, OVERLAY_ERROR_CODES, OverlayError } from "./errors.js";

export const VXLAN_PORT = 4789;
export const VXLAN_HEADER_LEN = 8;
/** The I flag as the first 32-bit word holds it (OVS prints `flags=0x8000000`). */
export const VXLAN_FLAGS = 0x08000000;
export const VNI_MAX = 0xffffff;

export interface VxlanHeader {
  readonly vni: number;
}

/** 0 when the header at `off` (with `end` the end of the datagram) is acceptable, else a drop reason. */
export function vxlanCheck(buf: Uint8Array, off: number, end: number): number {
  if (end - off < VXLAN_HEADER_LEN) return OVERLAY_DROP.MALFORMED_OUTER;
  // RFC 7348 §5: I flag MUST be 1; reserved bits "MUST be set to zero"; OVS drops otherwise.
  if (buf[off] !== 0x08 || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0)
    return OVERLAY_DROP.BAD_VXLAN;
  if (buf[off + 7] !== 0) return OVERLAY_DROP.BAD_VXLAN;
  return 0;
}

/** The VNI of a checked header. */
export function vxlanVni(buf: Uint8Array, off: number): number {
  return (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6];
}

export function decodeVxlan(buf: Uint8Array, off = 0, end: number = buf.length): VxlanHeader {
  const r = vxlanCheck(buf, off, end);
  if (r === OVERLAY_DROP.MALFORMED_OUTER)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.TRUNCATED,
      `Cannot decode VXLAN header: ${end - off} bytes left, need ${VXLAN_HEADER_LEN}`,
    );
  if (r !== 0)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.BAD_HEADER,
      "Cannot decode VXLAN header: flags must be exactly I (0x08) with reserved bits zero (RFC 7348 §5)",
    );
  return { vni: vxlanVni(buf, off) };
}

export function encodingLengthVxlan(_h?: VxlanHeader): number {
  return VXLAN_HEADER_LEN;
}

/** Writes the header at `off`; returns the offset after it. */
export function encodeVxlan(h: VxlanHeader, buf: Uint8Array, off = 0): number {
  if (!Number.isInteger(h.vni) || h.vni < 0 || h.vni > VNI_MAX)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.FIELD_RANGE,
      `Cannot encode VXLAN VNI ${h.vni}: it must be an integer from 0 to ${VNI_MAX}`,
    );
  if (buf.length - off < VXLAN_HEADER_LEN)
    throw new OverlayError(
      OVERLAY_ERROR_CODES.NO_ROOM,
      `Cannot encode VXLAN header: ${buf.length - off} bytes of room, need ${VXLAN_HEADER_LEN}`,
    );
  writeVxlan(buf, off, h.vni);
  return off + VXLAN_HEADER_LEN;
}

/** Per-packet writer: no checks, no allocation. */
export function writeVxlan(buf: Uint8Array, off: number, vni: number): void {
  buf[off] = 0x08;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf[off + 4] = (vni >>> 16) & 0xff;
  buf[off + 5] = (vni >>> 8) & 0xff;
  buf[off + 6] = vni & 0xff;
  buf[off + 7] = 0;
}
