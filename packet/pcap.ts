/**
 * pcap and pcapng capture files, read and written as a stream.
 *
 * Reading accepts what OVS's lib/pcap-file.c accepts — classic pcap in either byte
 * order, microsecond or nanosecond timestamps, link types Ethernet (1) and Linux
 * cooked capture (113) — and also pcapng (section, interface and packet blocks).
 * Linux cooked frames are turned into Ethernet frames the way OVS does it: the
 * 16-byte SLL header becomes an Ethernet header with an all-zero destination (the
 * format does not carry one), the SLL address as source and the SLL protocol as
 * EtherType. Anything else fails with a `PcapFormatError` saying what was found.
 *
 * Promises
 * - Memory is bounded by the largest record, never by the file: records are read in
 *   chunks and yielded as views (`data` is valid until the next iteration; copy it
 *   to keep it).
 * - A record cut short by the end of the file ends the capture quietly, as OVS's
 *   reader does (a capture still being written ends that way).
 * - Writing produces classic pcap, Ethernet, in host order as libpcap does, with
 *   micro- or nanosecond timestamps.
 *
 * It does not decode the frames (flow-extract.ts does) and does not write pcapng.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { PcapFormatError } from "./errors.js";

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;

const PCAP_MAGIC_USEC = 0xa1b2c3d4;
const PCAP_MAGIC_NSEC = 0xa1b23c4d;
const PCAP_MAGIC_USEC_SWAPPED = 0xd4c3b2a1;
const PCAP_MAGIC_NSEC_SWAPPED = 0x4d3cb2a1;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_IDB = 1;
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
const PCAPNG_OPT_IF_TSRESOL = 9;

const PCAP_GLOBAL_HEADER_LEN = 24;
const PCAP_RECORD_HEADER_LEN = 16;
const SLL_HEADER_LEN = 16;
const ETH_HEADER_LEN = 14;
/** OVS refuses records longer than this (lib/pcap-file.c, "bad packet length"). */
const PCAP_MAX_RECORD_LEN = 0xffff;
/** pcapng blocks may carry larger packets; this only stops absurd lengths. */
const PCAPNG_MAX_BLOCK_LEN = 16 * 1024 * 1024;
const READ_CHUNK = 1 << 20;

export interface PcapPacket {
  /** The frame as Ethernet (Linux cooked frames converted); valid until the next iteration. */
  data: Uint8Array;
  /** Capture time in nanoseconds since the epoch. */
  timestampNs: bigint;
  /** Length of the packet on the wire (may exceed data.length when truncated by snaplen). */
  originalLength: number;
  /** The link type the file recorded for this packet (1 or 113). */
  linkType: number;
}

/**
 * Buffered sequential reader over a file handle: `need(n)` makes n bytes available at
 * `pos` (reading and compacting as needed) and reports false at end of file.
 */
class ChunkReader {
  buf = new Uint8Array(READ_CHUNK);
  view = new DataView(this.buf.buffer);
  pos = 0;
  end = 0;
  private eof = false;

  constructor(private readonly handle: import("node:fs/promises").FileHandle) {}

  async need(n: number): Promise<boolean> {
    while (this.end - this.pos < n) {
      if (this.eof) return false;
      if (this.pos > 0) {
        this.buf.copyWithin(0, this.pos, this.end);
        this.end -= this.pos;
        this.pos = 0;
      }
      if (n > this.buf.length) {
        const bigger = new Uint8Array(Math.max(n, this.buf.length * 2));
        bigger.set(this.buf.subarray(0, this.end));
        this.buf = bigger;
        this.view = new DataView(bigger.buffer);
      }
      const { bytesRead } = await this.handle.read(
        this.buf,
        this.end,
        this.buf.length - this.end,
        null,
      );
      if (bytesRead === 0) this.eof = true;
      this.end += bytesRead;
    }
    return true;
  }

  u32(at: number, littleEndian: boolean): number {
    return this.view.getUint32(this.pos + at, littleEndian);
  }

  u16(at: number, littleEndian: boolean): number {
    return this.view.getUint16(this.pos + at, littleEndian);
  }
}

/**
 * Rewrites a Linux cooked (SLL) record in place into an Ethernet frame and returns
 * its view, or throws as OVS refuses it.
 */
function sllToEthernet(file: string, frame: Uint8Array): Uint8Array {
  if (frame.length < SLL_HEADER_LEN) {
    throw new PcapFormatError(file, "pcap packet too short for SLL header");
  }
  const llaLen = (frame[4]! << 8) | frame[5]!;
  if (llaLen !== 6) {
    throw new PcapFormatError(file, `bad SLL header (address length ${llaLen}, need 6)`);
  }
  // SLL: type(2) hatype(2) lla_len(2) addr(8, first 6 used) protocol(2). The Ethernet
  // header is written over the last 14 bytes of it: dst 0, src addr, type protocol.
  const eth = frame.subarray(SLL_HEADER_LEN - ETH_HEADER_LEN);
  const proto0 = frame[14]!;
  const proto1 = frame[15]!;
  eth.copyWithin(6, 6 - 2, 6 - 2 + 6); // addr (frame[6..12)) → eth[6..12) (frame[8..14))
  eth.fill(0, 0, 6);
  eth[12] = proto0;
  eth[13] = proto1;
  return eth;
}

/**
 * Reads a capture file record by record. Throws PcapFormatError on a file that is
 * neither pcap nor pcapng, an unsupported link type, or a corrupt record.
 */
export async function* readPcap(path: string): AsyncGenerator<PcapPacket> {
  const handle = await open(path, "r");
  try {
    const r = new ChunkReader(handle);
    if (!(await r.need(4))) {
      throw new PcapFormatError(path, "failed to read pcap header: end of file");
    }
    const magicLE = r.u32(0, true);
    if (magicLE === PCAPNG_SHB) {
      yield* readPcapng(path, r);
    } else {
      yield* readClassic(path, r);
    }
  } finally {
    await handle.close();
  }
}

async function* readClassic(path: string, r: ChunkReader): AsyncGenerator<PcapPacket> {
  if (!(await r.need(PCAP_GLOBAL_HEADER_LEN))) {
    throw new PcapFormatError(path, "failed to read pcap header: end of file");
  }
  const magic = r.u32(0, true);
  let le: boolean;
  let nsec: boolean;
  switch (magic) {
    case PCAP_MAGIC_USEC:
    case PCAP_MAGIC_NSEC:
      le = true;
      nsec = magic === PCAP_MAGIC_NSEC;
      break;
    case PCAP_MAGIC_USEC_SWAPPED:
    case PCAP_MAGIC_NSEC_SWAPPED:
      le = false;
      nsec = magic === PCAP_MAGIC_NSEC_SWAPPED;
      break;
    default:
      throw new PcapFormatError(
        path,
        `bad magic 0x${r.u32(0, false).toString(16).padStart(8, "0")} reading pcap file ` +
          "(expected 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, or 0x4d3cb2a1, or a pcapng file)",
      );
  }
  const linkType = r.u32(20, le);
  if (linkType !== LINKTYPE_ETHERNET && linkType !== LINKTYPE_LINUX_SLL) {
    throw new PcapFormatError(
      path,
      `unknown network type ${linkType} reading pcap file (only Ethernet (1) and Linux cooked capture (113) are supported)`,
    );
  }
  r.pos += PCAP_GLOBAL_HEADER_LEN;
  for (;;) {
    if (!(await r.need(PCAP_RECORD_HEADER_LEN))) return;
    const sec = r.u32(0, le);
    const subsec = r.u32(4, le);
    const inclLen = r.u32(8, le);
    const origLen = r.u32(12, le);
    if (inclLen > PCAP_MAX_RECORD_LEN) {
      throw new PcapFormatError(path, `bad packet length ${inclLen} reading pcap file`);
    }
    if (!(await r.need(PCAP_RECORD_HEADER_LEN + inclLen))) return;
    const start = r.pos + PCAP_RECORD_HEADER_LEN;
    let data: Uint8Array = r.buf.subarray(start, start + inclLen);
    r.pos = start + inclLen;
    if (linkType === LINKTYPE_LINUX_SLL) data = sllToEthernet(path, data);
    const timestampNs = BigInt(sec) * 1_000_000_000n + BigInt(subsec) * (nsec ? 1n : 1000n);
    yield { data, timestampNs, originalLength: origLen, linkType };
  }
}

interface PcapngInterface {
  linkType: number;
  /** Timestamp units per second. */
  unitsPerSec: bigint;
}

async function* readPcapng(path: string, r: ChunkReader): AsyncGenerator<PcapPacket> {
  let le = true;
  let interfaces: PcapngInterface[] = [];
  for (;;) {
    if (!(await r.need(12))) return;
    let type = r.u32(0, le);
    if (type === PCAPNG_SHB) {
      // The section's byte order is given by its byte-order magic (pcapng §4.1).
      const bom = r.u32(8, true);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else {
        throw new PcapFormatError(path, `bad pcapng byte-order magic 0x${bom.toString(16)}`);
      }
      interfaces = [];
      type = PCAPNG_SHB;
    }
    const blockLen = r.u32(4, le);
    if (blockLen < 12 || blockLen % 4 !== 0 || blockLen > PCAPNG_MAX_BLOCK_LEN) {
      throw new PcapFormatError(path, `bad pcapng block length ${blockLen}`);
    }
    if (!(await r.need(blockLen))) return;
    const body = r.pos + 8;
    const bodyEnd = r.pos + blockLen - 4;
    if (type === PCAPNG_IDB) {
      const linkType = r.u16(8, le);
      let unitsPerSec = 1_000_000n;
      // Options follow the 8-byte IDB body: code(2) len(2) value, padded to 4.
      let opt = body + 8;
      while (opt + 4 <= bodyEnd) {
        const code = r.view.getUint16(opt, le);
        const len = r.view.getUint16(opt + 2, le);
        if (code === 0) break;
        if (code === PCAPNG_OPT_IF_TSRESOL && len >= 1) {
          const v = r.buf[opt + 4]!;
          unitsPerSec = v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v & 0x7f);
        }
        opt += 4 + ((len + 3) & ~3);
      }
      interfaces.push({ linkType, unitsPerSec });
    } else if (type === PCAPNG_EPB || type === PCAPNG_SPB) {
      let ifIndex = 0;
      let ts = 0n;
      let capLen: number;
      let origLen: number;
      let dataAt: number;
      if (type === PCAPNG_EPB) {
        ifIndex = r.u32(8, le);
        ts = (BigInt(r.u32(12, le)) << 32n) | BigInt(r.u32(16, le));
        capLen = r.u32(20, le);
        origLen = r.u32(24, le);
        dataAt = r.pos + 28;
      } else {
        origLen = r.u32(8, le);
        dataAt = r.pos + 12;
        capLen = Math.min(origLen, bodyEnd - dataAt);
      }
      const iface = interfaces[ifIndex];
      if (!iface) {
        throw new PcapFormatError(path, `pcapng packet for undeclared interface ${ifIndex}`);
      }
      if (dataAt + capLen > bodyEnd) {
        throw new PcapFormatError(path, `pcapng packet length ${capLen} exceeds its block`);
      }
      if (iface.linkType !== LINKTYPE_ETHERNET && iface.linkType !== LINKTYPE_LINUX_SLL) {
        throw new PcapFormatError(
          path,
          `unknown network type ${iface.linkType} on pcapng interface ${ifIndex} (only Ethernet (1) and Linux cooked capture (113) are supported)`,
        );
      }
      let data: Uint8Array = r.buf.subarray(dataAt, dataAt + capLen);
      if (iface.linkType === LINKTYPE_LINUX_SLL) data = sllToEthernet(path, data);
      const timestampNs = (ts * 1_000_000_000n) / iface.unitsPerSec;
      r.pos += blockLen;
      yield { data, timestampNs, originalLength: origLen, linkType: iface.linkType };
      continue;
    }
    r.pos += blockLen;
  }
}

export interface PcapWriterOptions {
  /** Link type to record; frames must be of that type (default Ethernet). */
  linkType?: number;
  /** Nanosecond timestamps (magic 0xa1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  /** Snapshot length recorded in the header; longer frames are cut to it. */
  snaplen?: number;
}

const WRITE_BUFFER = 1 << 16;

/**
 * Writes a classic pcap file as frames come. Frames are copied into a small buffer
 * that is flushed with synchronous writes, so a writer never holds more than
 * WRITE_BUFFER bytes and the order of `write` calls is the order in the file.
 */
export class PcapWriter {
  private readonly buf = new Uint8Array(WRITE_BUFFER);
  private readonly view = new DataView(this.buf.buffer);
  private used = 0;
  private fd: number | undefined;
  private readonly nanosecond: boolean;
  private readonly snaplen: number;
  /** Frames written so far. */
  packets = 0;

  private constructor(fd: number, opts: PcapWriterOptions) {
    this.fd = fd;
    this.nanosecond = opts.nanosecond ?? false;
    this.snaplen = opts.snaplen ?? 262144;
    const v = this.view;
    v.setUint32(0, this.nanosecond ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true);
    v.setUint32(12, 0, true);
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, opts.linkType ?? LINKTYPE_ETHERNET, true);
    this.used = PCAP_GLOBAL_HEADER_LEN;
  }

  /** Creates (or truncates) `path` and writes the global header. */
  static async create(path: string, opts: PcapWriterOptions = {}): Promise<PcapWriter> {
    return PcapWriter.createSync(path, opts);
  }

  static createSync(path: string, opts: PcapWriterOptions = {}): PcapWriter {
    return new PcapWriter(openSync(path, "w"), opts);
  }

  /** Appends one frame captured at `timestampNs` (nanoseconds since the epoch). */
  write(frame: Uint8Array, timestampNs: bigint = 0n): void {
    if (this.fd === undefined) throw new Error("PcapWriter: write after close");
    const incl = Math.min(frame.length, this.snaplen);
    if (this.used + PCAP_RECORD_HEADER_LEN + incl > this.buf.length) this.flush();
    const sec = timestampNs / 1_000_000_000n;
    const rem = timestampNs % 1_000_000_000n;
    const sub = this.nanosecond ? rem : rem / 1000n;
    const v = this.view;
    v.setUint32(this.used, Number(sec & 0xffffffffn), true);
    v.setUint32(this.used + 4, Number(sub), true);
    v.setUint32(this.used + 8, incl, true);
    v.setUint32(this.used + 12, frame.length, true);
    this.used += PCAP_RECORD_HEADER_LEN;
    if (incl > this.buf.length) {
      this.flush();
      writeSync(this.fd, frame, 0, incl);
    } else {
      this.buf.set(frame.subarray(0, incl), this.used);
      this.used += incl;
    }
    this.packets++;
  }

  /** Writes buffered records to the file. */
  flush(): void {
    if (this.fd === undefined || this.used === 0) return;
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  closeSync(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Writes `frames` to a new pcap file at `path`. */
export async function writePcap(
  path: string,
  frames: Iterable<{ data: Uint8Array; timestampNs?: bigint }>,
  opts: PcapWriterOptions = {},
): Promise<void> {
  const w = PcapWriter.createSync(path, opts);
  try {
    for (const f of frames) w.write(f.data, f.timestampNs ?? 0n);
  } finally {
    w.closeSync();
  }
}
