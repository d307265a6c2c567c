/**
 * The packet module's error catalogue.
 *
 * Two ways to report a bad header, by path:
 * - Hot paths (views' `validate()`) return a `PacketErrorCode` — a constant string, so
 *   reporting costs no allocation — or `undefined` when the header is sound.
 * - Slow paths (`decodeX`, `encodeX`) throw one of the classes below, carrying the same
 *   stable `code` and a message that says what was found and what was needed.
 *
 * It does not log or count: counting drops is the datapath's business.
 */

export const PacketErrorCode = {
  /** Fewer bytes than the header (or its declared length) needs. */
  TRUNCATED: "PKT_ERR_TRUNCATED",
  /** A version field holds a value this codec does not speak. */
  BAD_VERSION: "PKT_ERR_BAD_VERSION",
  /** A length field is impossible (shorter than the fixed header, or inconsistent). */
  BAD_LENGTH: "PKT_ERR_BAD_LENGTH",
  /** An option or TLV is malformed (zero length, runs past its container). */
  BAD_OPTION: "PKT_ERR_BAD_OPTION",
  /** A field holds a value the RFC forbids. */
  BAD_FIELD: "PKT_ERR_BAD_FIELD",
  /** The encoder was handed a value that does not fit its field. */
  FIELD_RANGE: "PKT_ERR_FIELD_RANGE",
  /** The caller's buffer has no room for what the encoder must write. */
  NO_ROOM: "PKT_ERR_NO_ROOM",
  /** A capture file that is not pcap/pcapng, or of a link type OVS does not read. */
  PCAP_FORMAT: "PKT_ERR_PCAP_FORMAT",
} as const;

export type PacketErrorCode = (typeof PacketErrorCode)[keyof typeof PacketErrorCode];

/** Base class: every error thrown by packet/ codecs is one of these. */
export class PacketError extends Error {
  readonly code: PacketErrorCode;
  /** The header being processed, e.g. "IPv4" (as in the message). */
  readonly header: string;
  constructor(code: PacketErrorCode, header: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.header = header;
  }
}

/** "Cannot decode IPv4 header: 12 bytes left, need 20". */
export class PacketTruncatedError extends PacketError {
  readonly left: number;
  readonly need: number;
  constructor(header: string, left: number, need: number) {
    super(
      PacketErrorCode.TRUNCATED,
      header,
      `Cannot decode ${header} header: ${Math.max(0, left)} bytes left, need ${need}`,
    );
    this.left = left;
    this.need = need;
  }
}

/** A header that is long enough but breaks its RFC; `detail` names the rule. */
export class PacketMalformedError extends PacketError {
  constructor(code: PacketErrorCode, header: string, detail: string) {
    super(code, header, `Cannot decode ${header} header: ${detail}`);
  }
}

/** An encoder refused a field value: "Cannot encode VLAN header: vid 4096 is not in 0..4095". */
export class PacketFieldRangeError extends PacketError {
  constructor(header: string, field: string, value: number | bigint, max: number | bigint) {
    super(
      PacketErrorCode.FIELD_RANGE,
      header,
      `Cannot encode ${header} header: ${field} ${value} is not in 0..${max}`,
    );
  }
}

/** "Cannot encode TCP header: 8 bytes of room in the buffer, need 20". */
export class PacketNoRoomError extends PacketError {
  constructor(header: string, room: number, need: number) {
    super(
      PacketErrorCode.NO_ROOM,
      header,
      `Cannot encode ${header} header: ${Math.max(0, room)} bytes of room in the buffer, need ${need}; pass a larger buffer (see encodingLength)`,
    );
  }
}

/** Throws PacketTruncatedError unless `need` bytes are available at `off` within `end`. */
export function needBytes(header: string, end: number, off: number, need: number): void {
  if (end - off < need) throw new PacketTruncatedError(header, end - off, need);
}

/** Throws PacketNoRoomError unless `buf` has `need` bytes from `off`. */
export function needRoom(header: string, buf: Uint8Array, off: number, need: number): void {
  if (buf.length - off < need) throw new PacketNoRoomError(header, buf.length - off, need);
}

/** Throws PacketFieldRangeError unless `value` is an integer in 0..max. */
export function checkRange(header: string, field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new PacketFieldRangeError(header, field, value, max);
}

/** A capture file we cannot read: "FILE: unknown network type 101 reading pcap file ...". */
export class PcapFormatError extends PacketError {
  readonly file: string;
  constructor(file: string, detail: string) {
    super(PacketErrorCode.PCAP_FORMAT, "pcap", `${file}: ${detail}`);
    this.file = file;
  }
}
