import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { flowExtract } from "../../packet/flow-extract.js";
import {
  FLOW_SEGMENT_L2,
  FLOW_WORDS,
  LAYER_L2_5,
  LAYER_L3,
  LAYER_L4,
  LAYER_L7,
  newFlowKey,
  newPacketLayers,
  W_ARP_SHA_HI,
  W_ARP_SHA_LO,
  W_ARP_THA_HI,
  W_ARP_THA_LO,
  W_DL_DST_HI,
  W_DL_DST_LO,
  W_DL_SRC_HI,
  W_DL_SRC_LO,
  W_DL_TYPE,
  W_IGMP_GROUP,
  W_IN_PORT,
  W_IPV6_DST,
  W_IPV6_LABEL,
  W_IPV6_SRC,
  W_MPLS0,
  W_ND_TARGET,
  W_NSH_BASE,
  W_NSH_C1,
  W_NSH_PATH,
  W_NW,
  W_NW_DST,
  W_NW_SRC,
  W_REG0,
  W_TCP_FLAGS,
  W_TP,
  W_TUN_ID_LO,
  W_VLAN0,
  W_VLAN1,
} from "../../packet/flow-key.js";

/** Bytes from hex, ignoring spaces (frames below are written header by header). */
function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const ETH = "665544332211 aabbccddeeff"; // dst 66:55:44:33:22:11, src aa:bb:cc:dd:ee:ff
const IPV4_UDP = "4500 0024 0000 0000 4011 0000 0a000001 0a000002"; // tot_len 36, ttl 64
const UDP = "04d2 0035 0010 0000 6162636465666768";

function extract(frame: Uint8Array, offset = 0, length = frame.length) {
  const key = newFlowKey();
  const layers = newPacketLayers();
  flowExtract(frame, offset, length, key, layers);
  return { key, layers };
}

describe("flowExtract", () => {
  it("extracts Ethernet, IPv4 and UDP fields of a plain UDP packet", () => {
    const { key, layers } = extract(hex(`${ETH} 0800 ${IPV4_UDP} ${UDP}`));
    expect(key[W_DL_DST_HI]).toBe(0x6655);
    expect(key[W_DL_DST_LO]).toBe(0x44332211);
    expect(key[W_DL_SRC_HI]).toBe(0xaabb);
    expect(key[W_DL_SRC_LO]).toBe(0xccddeeff);
    expect(key[W_DL_TYPE]).toBe(0x0800);
    expect(key[W_VLAN0]).toBe(0);
    expect(key[W_NW_SRC]).toBe(0x0a000001);
    expect(key[W_NW_DST]).toBe(0x0a000002);
    expect(key[W_NW]).toBe((64 << 8) | 17);
    expect(key[W_TP]).toBe((1234 << 16) | 53);
    expect([...layers]).toEqual([-1, 14, 34, 42]);
  });

  it("honours the offset and length of a frame inside a larger buffer", () => {
    const frame = hex(`ffffffff ${ETH} 0800 ${IPV4_UDP} ${UDP} eeeeeeee`);
    const { key, layers } = extract(frame, 4, frame.length - 8);
    expect(key[W_DL_DST_HI]).toBe(0x6655);
    expect(key[W_TP]).toBe((1234 << 16) | 53);
    expect(layers[LAYER_L3]).toBe(14);
  });

  it("writes the L2-L4 words and leaves the caller's metadata words alone", () => {
    const key = newFlowKey();
    key.fill(0xdeadbeef);
    flowExtract(hex(`${ETH} 0806`), 0, 14, key, newPacketLayers());
    expect(key[W_IN_PORT]).toBe(0xdeadbeef);
    expect(key[W_REG0]).toBe(0xdeadbeef);
    expect(key[W_TUN_ID_LO]).toBe(0xdeadbeef);
    expect(key[W_DL_TYPE]).toBe(0x0806);
    expect([...key.subarray(W_NW_SRC)].every((w) => w === 0)).toBe(true);
  });

  it("extracts nothing from a frame shorter than an Ethernet header", () => {
    const { key, layers } = extract(hex("665544332211aabbccddeeff08"));
    expect([...key.subarray(FLOW_SEGMENT_L2)].every((w) => w === 0)).toBe(true);
    expect([...layers]).toEqual([-1, -1, -1, -1]);
  });

  it("keeps only the Ethernet fields when the IPv4 header is truncated", () => {
    const { key, layers } = extract(hex(`${ETH} 0800 4500002400000000401100`));
    expect(key[W_DL_TYPE]).toBe(0x0800);
    expect(key[W_NW_SRC]).toBe(0);
    expect(key[W_NW]).toBe(0);
    expect(layers[LAYER_L3]).toBe(14);
    expect(layers[LAYER_L4]).toBe(-1);
  });

  it("rejects an IPv4 header whose total length exceeds the frame", () => {
    const { key } = extract(
      hex(`${ETH} 0800 4500 05dc 0000 0000 4011 0000 0a000001 0a000002 ${UDP}`),
    );
    expect(key[W_NW_SRC]).toBe(0);
  });

  it("marks a first fragment and keeps its ports", () => {
    const { key } = extract(
      hex(`${ETH} 0800 4500 0024 0000 2000 4011 0000 0a000001 0a000002 ${UDP}`),
    );
    expect(key[W_NW] >>> 24).toBe(1);
    expect(key[W_TP]).toBe((1234 << 16) | 53);
  });

  it("marks a later fragment and extracts no L4 fields from it", () => {
    const { key, layers } = extract(
      hex(`${ETH} 0800 4500 0024 0000 00b9 4011 0000 0a000001 0a000002 ${UDP}`),
    );
    expect(key[W_NW] >>> 24).toBe(3);
    expect(key[W_NW] & 0xff).toBe(17);
    expect(key[W_TP]).toBe(0);
    expect(layers[LAYER_L4]).toBe(34);
    expect(layers[LAYER_L7]).toBe(-1);
  });

  it("keeps the whole TOS byte (DSCP and ECN) and the TTL", () => {
    const { key } = extract(
      hex(`${ETH} 0800 45b9 0024 0000 0000 0711 0000 0a000001 0a000002 ${UDP}`),
    );
    expect((key[W_NW] >>> 16) & 0xff).toBe(0xb9);
    expect((key[W_NW] >>> 8) & 0xff).toBe(7);
  });

  it("extracts TCP ports and the 12 flag bits", () => {
    const tcp = "9c40 0050 00000000 00000000 5012 2000 0000 0000";
    const frame = hex(`${ETH} 0800 4500 0028 0000 0000 4006 0000 0a000001 0a000002 ${tcp}`);
    const { key, layers } = extract(frame);
    expect(key[W_TP]).toBe(((40000 << 16) | 80) >>> 0);
    expect(key[W_TCP_FLAGS]).toBe(0x012);
    expect(layers[LAYER_L7]).toBe(54);
  });

  it("ignores a TCP header whose data offset is below 5 words, as OVS 3.1 does", () => {
    const tcp = "9c40 0050 00000000 00000000 4012 2000 0000 0000";
    const { key } = extract(
      hex(`${ETH} 0800 4500 0028 0000 0000 4006 0000 0a000001 0a000002 ${tcp}`),
    );
    expect(key[W_NW] & 0xff).toBe(6);
    expect(key[W_TP]).toBe(0);
    expect(key[W_TCP_FLAGS]).toBe(0);
  });

  it("extracts a single 802.1Q tag with the CFI bit marking its presence", () => {
    const { key, layers } = extract(hex(`${ETH} 8100 600a 0800 ${IPV4_UDP} ${UDP}`));
    expect(key[W_VLAN0]).toBe(((0x8100 << 16) | 0x600a | 0x1000) >>> 0);
    expect(key[W_VLAN1]).toBe(0);
    expect(key[W_DL_TYPE]).toBe(0x0800);
    expect(layers[LAYER_L3]).toBe(18);
  });

  it("extracts QinQ with an 802.1ad outer tag and stops after two tags", () => {
    const { key } = extract(hex(`${ETH} 88a8 a064 8100 20c8 8100 0003 0800 ${IPV4_UDP} ${UDP}`));
    expect(key[W_VLAN0]).toBe(((0x88a8 << 16) | 0xa064 | 0x1000) >>> 0);
    expect(key[W_VLAN1]).toBe(((0x8100 << 16) | 0x20c8 | 0x1000) >>> 0);
    expect(key[W_DL_TYPE]).toBe(0x8100);
  });

  it("gives 802.3 frames without SNAP the dl_type 0x05ff", () => {
    const { key, layers } = extract(hex(`${ETH} 0026 424203 000000000000`));
    expect(key[W_DL_TYPE]).toBe(0x05ff);
    expect(layers[LAYER_L3]).toBe(14);
  });

  it("takes the EtherType from an LLC/SNAP header with the Ethernet OUI", () => {
    const { key, layers } = extract(hex(`${ETH} 0030 aaaa03 000000 0800 ${IPV4_UDP} ${UDP}`));
    expect(key[W_DL_TYPE]).toBe(0x0800);
    expect(key[W_TP]).toBe((1234 << 16) | 53);
    expect(layers[LAYER_L3]).toBe(22);
  });

  it("keeps the first three labels of an MPLS stack and stops at bottom of stack", () => {
    const frame = hex(`${ETH} 8847 00001040 00002040 00003040 00004140 ${IPV4_UDP}`);
    const { key, layers } = extract(frame);
    expect(key[W_MPLS0]).toBe(0x00001040);
    expect(key[W_MPLS0 + 1]).toBe(0x00002040);
    expect(key[W_MPLS0 + 2]).toBe(0x00003040);
    expect(key[W_NW_SRC]).toBe(0);
    expect(layers[LAYER_L2_5]).toBe(14);
    expect(layers[LAYER_L3]).toBe(30);
  });

  it("extracts ARP addresses and opcode only from a complete ARP body", () => {
    const arp = "0001 0800 06 04 0001 aabbccddeeff 0a000001 000000000000 0a000002";
    const full = extract(hex(`${ETH} 0806 ${arp}`)).key;
    expect(full[W_NW_SRC]).toBe(0x0a000001);
    expect(full[W_NW_DST]).toBe(0x0a000002);
    expect(full[W_NW]).toBe(1);
    expect(full[W_ARP_SHA_HI]).toBe(0xaabb);
    expect(full[W_ARP_SHA_LO]).toBe(0xccddeeff);
    const frame = hex(`${ETH} 0806 ${arp}`);
    const short = extract(frame, 0, frame.length - 1).key;
    expect(short[W_DL_TYPE]).toBe(0x0806);
    expect(short[W_NW_SRC]).toBe(0);
  });

  it("drops an ARP opcode above 255 but keeps the addresses", () => {
    const arp = "0001 0800 06 04 0102 aabbccddeeff 0a000001 000000000000 0a000002";
    const { key } = extract(hex(`${ETH} 0806 ${arp}`));
    expect(key[W_NW]).toBe(0);
    expect(key[W_NW_SRC]).toBe(0x0a000001);
  });

  const V6 =
    "6b9abcde 0010 11 09 20010db8000000000000000000000001 20010db8000000010000000000000002";

  it("extracts IPv6 addresses, flow label, traffic class and hop limit", () => {
    const { key, layers } = extract(hex(`${ETH} 86dd ${V6} 0222 0223 0010 0000 6162636465666768`));
    expect([...key.subarray(W_IPV6_SRC, W_IPV6_SRC + 4)]).toEqual([0x20010db8, 0, 0, 1]);
    expect([...key.subarray(W_IPV6_DST, W_IPV6_DST + 4)]).toEqual([0x20010db8, 1, 0, 2]);
    expect(key[W_IPV6_LABEL]).toBe(0xabcde);
    expect(key[W_NW]).toBe((0xb9 << 16) | (9 << 8) | 17);
    expect(key[W_TP]).toBe((546 << 16) | 547);
    expect(layers[LAYER_L4]).toBe(54);
  });

  it("walks hop-by-hop, routing and destination options to the transport header", () => {
    const hbh = "2b00 010400000000"; // next: routing, 8 bytes
    const rt = "3c00 0000 00000000"; // next: dstopts
    const dst = "1100 010400000000"; // next: UDP
    const frame = hex(
      `${ETH} 86dd 60000000 0020 00 40 ${"00".repeat(32)} ${hbh} ${rt} ${dst} 0001 0002 0008 0000`,
    );
    const { key } = extract(frame);
    expect(key[W_NW] & 0xff).toBe(17);
    expect(key[W_TP]).toBe((1 << 16) | 2);
  });

  it("keeps the addresses but no nw_proto or label when an extension header runs out", () => {
    const frame = hex(`${ETH} 86dd 6000abcd 0006 00 40 ${"11".repeat(32)} 110000000000`);
    const { key, layers } = extract(frame);
    expect(key[W_IPV6_SRC]).toBe(0x11111111);
    expect(key[W_IPV6_LABEL]).toBe(0);
    expect(key[W_NW]).toBe(0);
    expect(layers[LAYER_L4]).toBe(-1);
  });

  it("reports nw_proto 44 and no ports for a later IPv6 fragment", () => {
    const frame = hex(
      `${ETH} 86dd 60000000 0010 2c 40 ${"00".repeat(32)} 1100 0321 00000001 0001000200080000`,
    );
    const { key } = extract(frame);
    expect(key[W_NW] & 0xff).toBe(44);
    expect(key[W_NW] >>> 24).toBe(3);
    expect(key[W_TP]).toBe(0);
  });

  it("extracts an ND solicitation's target, source link-layer address and option type", () => {
    const ns = `8700 0000 00000000 fe800000000000000000000000000002 0101 aabbccddeeff`;
    const frame = hex(`${ETH} 86dd 60000000 0020 3a ff ${"00".repeat(32)} ${ns}`);
    const { key } = extract(frame);
    expect(key[W_TP]).toBe(135 << 16);
    expect([...key.subarray(W_ND_TARGET, W_ND_TARGET + 4)]).toEqual([0xfe800000, 0, 0, 2]);
    expect(key[W_ARP_SHA_HI]).toBe(0xaabb);
    expect(key[W_ARP_SHA_LO]).toBe(0xccddeeff);
    expect(key[W_ARP_THA_HI] | key[W_ARP_THA_LO]).toBe(0);
    expect(key[W_TCP_FLAGS]).toBe(1);
  });

  it("stores an ND advertisement's flags word and target link-layer address", () => {
    const na = `8800 0000 e0000000 fe800000000000000000000000000002 0201 112233445566`;
    const frame = hex(`${ETH} 86dd 60000000 0020 3a ff ${"00".repeat(32)} ${na}`);
    const { key } = extract(frame);
    expect(key[W_IGMP_GROUP]).toBe(0xe0000000);
    expect(key[W_ARP_THA_HI]).toBe(0x1122);
    expect(key[W_ARP_THA_LO]).toBe(0x33445566);
    expect(key[W_TCP_FLAGS]).toBe(2);
  });

  it("discards the ND target and addresses when a link-layer option repeats", () => {
    const ns = `8700 0000 00000000 ${"ab".repeat(16)} 0101 aabbccddeeff 0101 112233445566`;
    const frame = hex(`${ETH} 86dd 60000000 0028 3a ff ${"00".repeat(32)} ${ns}`);
    const { key } = extract(frame);
    expect(key[W_TP]).toBe(135 << 16);
    expect(key[W_ND_TARGET]).toBe(0);
    expect(key[W_ARP_SHA_HI] | key[W_ARP_SHA_LO]).toBe(0);
    // The first option's type survives (seen with ovs-vswitchd 3.1's ofproto/trace
    // against an nd_options_type=1 rule).
    expect(key[W_TCP_FLAGS]).toBe(1);
  });

  it("keeps the ND reserved word when the target is cut short", () => {
    const frame = hex(
      `${ETH} 86dd 60000000 000c 3a ff ${"00".repeat(32)} 8700 0000 12345678 00000000`,
    );
    const { key } = extract(frame);
    expect(key[W_IGMP_GROUP]).toBe(0x12345678);
    expect(key[W_ND_TARGET]).toBe(0);
    expect(key[W_TCP_FLAGS]).toBe(0);
  });

  it("extracts ICMP type and code into the port word", () => {
    const frame = hex(
      `${ETH} 0800 4500 001c 0000 0000 4001 0000 0a000001 0a000002 0304 0000 00000000`,
    );
    expect(extract(frame).key[W_TP]).toBe((3 << 16) | 4);
  });

  it("extracts the IGMP group address", () => {
    const frame = hex(
      `${ETH} 0800 4500 001c 0000 0000 0102 0000 0a000001 e0000016 1600 0000 ef010203`,
    );
    const { key } = extract(frame);
    expect(key[W_TP]).toBe(0x16 << 16);
    expect(key[W_IGMP_GROUP]).toBe(0xef010203);
  });

  it("extracts an NSH MD type 1 header's path and contexts", () => {
    const nsh = "0fc6 01 03 00012 3ff 00000001 00000002 00000003 00000004";
    const { key } = extract(hex(`${ETH} 894f ${nsh}`));
    expect(key[W_NSH_BASE]).toBe((0 << 24) | (63 << 16) | (1 << 8) | 3);
    expect(key[W_NSH_PATH]).toBe(0x000123ff);
    expect([...key.subarray(W_NSH_C1, W_NSH_C1 + 4)]).toEqual([1, 2, 3, 4]);
  });

  it("never throws and is deterministic for arbitrary bytes, whatever the key held before", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 0, max: 8 }),
        (bytes, cut) => {
          const a = newFlowKey().fill(0x12345678);
          const b = newFlowKey();
          const la = newPacketLayers();
          const lb = newPacketLayers().fill(99);
          const len = Math.max(0, bytes.length - cut);
          flowExtract(bytes, 0, len, a, la);
          flowExtract(bytes, 0, len, b, lb);
          expect([...a.subarray(FLOW_SEGMENT_L2)]).toEqual([...b.subarray(FLOW_SEGMENT_L2)]);
          expect([...la]).toEqual([...lb]);
          expect(a[W_IN_PORT]).toBe(0x12345678);
          for (const off of la) expect(off).toBeLessThanOrEqual(len);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("never reads past the given length: bytes after it do not change the key", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 120 }),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        (frame, junk) => {
          const padded = new Uint8Array(frame.length + junk.length);
          padded.set(frame);
          padded.set(junk, frame.length);
          const a = newFlowKey();
          const b = newFlowKey();
          flowExtract(frame, 0, frame.length, a, newPacketLayers());
          flowExtract(padded, 0, frame.length, b, newPacketLayers());
          expect([...a]).toEqual([...b]);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("does not throw for a length past the end of the buffer or a negative offset", () => {
    const key = newFlowKey();
    const frame = hex(`${ETH} 0800 ${IPV4_UDP} ${UDP}`);
    expect(() => flowExtract(frame, 0, 10_000, key, newPacketLayers())).not.toThrow();
    expect(key[W_NW_SRC]).toBe(0x0a000001);
    expect(() => flowExtract(frame, -3, 10, key, newPacketLayers())).not.toThrow();
    expect([...key.subarray(FLOW_SEGMENT_L2, FLOW_WORDS)].every((w) => w === 0)).toBe(true);
  });
});
