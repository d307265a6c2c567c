import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { PcapFormatError } from "../../packet/errors.js";
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  type PcapPacket,
  PcapWriter,
  readPcap,
  writePcap,
} from "../../packet/pcap.js";

const dir = mkdtempSync(join(tmpdir(), "ovsim-pcap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmp = (ext = "pcap") => join(dir, `f${n++}.${ext}`);

async function readAll(path: string): Promise<Array<PcapPacket & { data: Uint8Array }>> {
  const out: Array<PcapPacket & { data: Uint8Array }> = [];
  for await (const p of readPcap(path)) out.push({ ...p, data: p.data.slice() });
  return out;
}

/** Builds a classic pcap file by hand, in either byte order. */
function classic(opts: {
  le: boolean;
  nsec: boolean;
  linkType: number;
  records: Array<{ sec: number; sub: number; data: Uint8Array; orig?: number }>;
}): Uint8Array {
  const size = 24 + opts.records.reduce((s, r) => s + 16 + r.data.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, opts.nsec ? 0xa1b23c4d : 0xa1b2c3d4, opts.le);
  v.setUint16(4, 2, opts.le);
  v.setUint16(6, 4, opts.le);
  v.setUint32(16, 65535, opts.le);
  v.setUint32(20, opts.linkType, opts.le);
  let off = 24;
  for (const r of opts.records) {
    v.setUint32(off, r.sec, opts.le);
    v.setUint32(off + 4, r.sub, opts.le);
    v.setUint32(off + 8, r.data.length, opts.le);
    v.setUint32(off + 12, r.orig ?? r.data.length, opts.le);
    out.set(r.data, off + 16);
    off += 16 + r.data.length;
  }
  return out;
}

const frame = (len: number, seed: number) =>
  Uint8Array.from({ length: len }, (_, i) => (i * 7 + seed) & 0xff);

describe("pcap files", () => {
  it("reads back what the writer wrote, frames and timestamps intact", async () => {
    const path = tmp();
    const frames = [frame(60, 1), frame(1514, 2), frame(64, 3)];
    await writePcap(
      path,
      frames.map((data, i) => ({
        data,
        timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1000n,
      })),
    );
    const got = await readAll(path);
    expect(got.map((p) => Array.from(p.data))).toEqual(frames.map((f) => Array.from(f)));
    expect(got.map((p) => p.timestampNs)).toEqual([
      1_700_000_000_000_000_000n,
      1_700_000_000_000_001_000n,
      1_700_000_000_000_002_000n,
    ]);
    expect(got.every((p) => p.linkType === LINKTYPE_ETHERNET)).toBe(true);
  });

  it("keeps nanoseconds when the writer is asked for nanosecond resolution", async () => {
    const path = tmp();
    const w = await PcapWriter.create(path, { nanosecond: true });
    w.write(frame(60, 0), 5_000_000_123n);
    await w.close();
    const [p] = await readAll(path);
    expect(p!.timestampNs).toBe(5_000_000_123n);
  });

  it("streams captures far larger than its read buffer", async () => {
    const path = tmp();
    const w = PcapWriter.createSync(path);
    const count = 3000;
    for (let i = 0; i < count; i++) w.write(frame(60 + (i % 1400), i), BigInt(i) * 1000n);
    w.closeSync();
    let seen = 0;
    for await (const p of readPcap(path)) {
      expect(p.data.length).toBe(60 + (seen % 1400));
      expect(p.data[0]).toBe(seen & 0xff);
      expect(p.timestampNs).toBe(BigInt(seen) * 1000n);
      seen++;
    }
    expect(seen).toBe(count);
  });

  it("reads big-endian and nanosecond files as OVS does", async () => {
    const data = frame(42, 9);
    for (const le of [true, false]) {
      for (const nsec of [false, true]) {
        const path = tmp();
        writeFileSync(
          path,
          classic({ le, nsec, linkType: 1, records: [{ sec: 10, sub: 20, data, orig: 100 }] }),
        );
        const [p] = await readAll(path);
        expect(Array.from(p!.data)).toEqual(Array.from(data));
        expect(p!.originalLength).toBe(100);
        expect(p!.timestampNs).toBe(10_000_000_000n + (nsec ? 20n : 20_000n));
      }
    }
  });

  it("turns Linux cooked captures into Ethernet frames with a zero destination", async () => {
    const sll = new Uint8Array(16 + 20);
    sll.set([0, 4, 0, 1, 0, 6, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0, 0, 0x08, 0x00]);
    sll.fill(0xab, 16);
    const path = tmp();
    writeFileSync(
      path,
      classic({ le: true, nsec: false, linkType: 113, records: [{ sec: 0, sub: 0, data: sll }] }),
    );
    const [p] = await readAll(path);
    expect(p!.linkType).toBe(LINKTYPE_LINUX_SLL);
    expect(Array.from(p!.data.subarray(0, 14))).toEqual([
      0, 0, 0, 0, 0, 0, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x08, 0x00,
    ]);
    expect(p!.data.length).toBe(14 + 20);
    expect(p!.data[14]).toBe(0xab);
  });

  it("refuses a cooked record whose address is not 6 bytes long", async () => {
    const sll = new Uint8Array(16);
    sll.set([0, 0, 0, 1, 0, 8]);
    const path = tmp();
    writeFileSync(
      path,
      classic({ le: true, nsec: false, linkType: 113, records: [{ sec: 0, sub: 0, data: sll }] }),
    );
    await expect(readAll(path)).rejects.toThrow(/bad SLL header/);
  });

  it("ends quietly at a record cut short by the end of the file", async () => {
    const bytes = classic({
      le: true,
      nsec: false,
      linkType: 1,
      records: [
        { sec: 0, sub: 0, data: frame(60, 0) },
        { sec: 0, sub: 0, data: frame(60, 1) },
      ],
    });
    const path = tmp();
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    expect((await readAll(path)).length).toBe(1);
  });

  it("names the bad magic of a file that is not a capture", async () => {
    const path = tmp();
    writeFileSync(path, new TextEncoder().encode("this is not a capture file at all"));
    const err = await readAll(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PcapFormatError);
    expect((err as Error).message).toMatch(/bad magic 0x74686973/);
  });

  it("refuses link types other than Ethernet and Linux cooked", async () => {
    const path = tmp();
    writeFileSync(path, classic({ le: true, nsec: false, linkType: 101, records: [] }));
    await expect(readAll(path)).rejects.toThrow(/unknown network type 101/);
  });

  it("refuses records longer than OVS accepts", async () => {
    const bytes = classic({ le: true, nsec: false, linkType: 1, records: [] });
    const rec = new Uint8Array(16);
    new DataView(rec.buffer).setUint32(8, 0x10000, true);
    const path = tmp();
    writeFileSync(path, Buffer.concat([bytes, rec]));
    await expect(readAll(path)).rejects.toThrow(/bad packet length 65536/);
  });

  it("refuses an empty file with a clear message", async () => {
    const path = tmp();
    writeFileSync(path, new Uint8Array(0));
    await expect(readAll(path)).rejects.toThrow(/failed to read pcap header/);
  });

  it("never throws anything but PcapFormatError on random file contents", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const path = tmp();
        writeFileSync(path, bytes);
        try {
          await readAll(path);
        } catch (e) {
          expect(e).toBeInstanceOf(PcapFormatError);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** Builds a pcapng file: SHB, one IDB (with if_tsresol), EPBs and an SPB. */
function pcapng(le: boolean, linkType: number, tsresol: number, packets: Uint8Array[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array) => {
    const len = 12 + ((body.length + 3) & ~3);
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, le);
    v.setUint32(4, len, le);
    b.set(body, 8);
    v.setUint32(len - 4, len, le);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  const sv = new DataView(shb.buffer);
  sv.setUint32(0, 0x1a2b3c4d, le);
  sv.setUint16(4, 1, le);
  sv.setBigInt64(8, -1n, le);
  block(0x0a0d0d0a, shb);
  const idb = new Uint8Array(8 + 8 + 4);
  const iv = new DataView(idb.buffer);
  iv.setUint16(0, linkType, le);
  iv.setUint32(4, 65535, le);
  iv.setUint16(8, 9, le);
  iv.setUint16(10, 1, le);
  idb[12] = tsresol;
  block(1, idb);
  packets.forEach((p, i) => {
    const epb = new Uint8Array(20 + p.length);
    const ev = new DataView(epb.buffer);
    ev.setUint32(0, 0, le);
    ev.setUint32(4, 0, le);
    ev.setUint32(8, 1000 + i, le);
    ev.setUint32(12, p.length, le);
    ev.setUint32(16, p.length, le);
    epb.set(p, 20);
    block(6, epb);
  });
  const spb = new Uint8Array(4 + 60);
  new DataView(spb.buffer).setUint32(0, 60, le);
  spb.set(frame(60, 77), 4);
  block(3, spb);
  return Buffer.concat(blocks);
}

describe("pcapng files", () => {
  it("reads enhanced and simple packet blocks in both byte orders", async () => {
    for (const le of [true, false]) {
      const pkts = [frame(61, 1), frame(98, 2)];
      const path = tmp("pcapng");
      writeFileSync(path, pcapng(le, 1, 9, pkts));
      const got = await readAll(path);
      expect(got.length).toBe(3);
      expect(Array.from(got[0]!.data)).toEqual(Array.from(pkts[0]!));
      expect(Array.from(got[1]!.data)).toEqual(Array.from(pkts[1]!));
      expect(got[1]!.timestampNs).toBe(1001n);
      expect(Array.from(got[2]!.data)).toEqual(Array.from(frame(60, 77)));
    }
  });

  it("scales timestamps by the interface's resolution", async () => {
    const path = tmp("pcapng");
    writeFileSync(path, pcapng(true, 1, 6, [frame(60, 0)]));
    const [p] = await readAll(path);
    expect(p!.timestampNs).toBe(1000n * 1000n);
  });

  it("refuses interfaces of other link types", async () => {
    const path = tmp("pcapng");
    writeFileSync(path, pcapng(true, 105, 6, [frame(60, 0)]));
    await expect(readAll(path)).rejects.toThrow(/unknown network type 105/);
  });
});
