/**
 * formatMatch against strings printed by OVS 3.1 itself: masked matches as
 * `ovs-ofctl parse-flow` echoes them, exact flows as `ovs-ofctl parse-pcap` prints
 * them. (test/interop/parse-pcap.test.ts runs the real tool on thousands of frames.)
 */
import { describe, expect, it } from "vitest";
import { flowExtract } from "../../packet/flow-extract.js";
import { FLOW_FIELDS, findFlowField } from "../../packet/flow-fields.js";
import {
  flowWildcardsForPacket,
  formatFlow,
  formatMatch,
  formatOfPort,
  OFPP_LOCAL,
  OFPP_NONE,
} from "../../packet/flow-format.js";
import {
  FLOW_WORDS,
  newFlowKey,
  newPacketLayers,
  W_ARP_SHA_HI,
  W_ARP_SHA_LO,
  W_DL_DST_HI,
  W_DL_DST_LO,
  W_DL_SRC_HI,
  W_DL_SRC_LO,
  W_DL_TYPE,
  W_DP_HASH,
  W_IGMP_GROUP,
  W_IN_PORT,
  W_IPV6_DST,
  W_IPV6_LABEL,
  W_IPV6_SRC,
  W_METADATA_HI,
  W_METADATA_LO,
  W_MPLS0,
  W_ND_TARGET,
  W_NSH_BASE,
  W_NSH_C1,
  W_NSH_PATH,
  W_NW,
  W_NW_DST,
  W_NW_SRC,
  W_PKT_MARK,
  W_RECIRC_ID,
  W_REG0,
  W_TCP_FLAGS,
  W_TP,
  W_TUN_DST,
  W_TUN_FLAGS,
  W_TUN_ID_HI,
  W_TUN_ID_LO,
  W_TUN_IPV6_DST,
  W_TUN_IPV6_SRC,
  W_TUN_SRC,
  W_TUN_TOS_TTL,
  W_VLAN0,
} from "../../packet/flow-key.js";

/** A key and mask pair, built word by word. */
class Match {
  readonly key = newFlowKey();
  readonly mask = newFlowKey();
  set(word: number, value: number, mask = 0xffffffff, shift = 0): this {
    const m = (mask << shift) >>> 0;
    this.key[word] = ((this.key[word] & ~m) | ((value << shift) & m)) >>> 0;
    this.mask[word] = (this.mask[word] | m) >>> 0;
    return this;
  }
  ip(): this {
    return this.set(W_DL_TYPE, 0x0800, 0xffff);
  }
  ipv6(): this {
    return this.set(W_DL_TYPE, 0x86dd, 0xffff);
  }
  proto(p: number): this {
    return this.set(W_NW, p, 0xff);
  }
  format(opts?: Parameters<typeof formatMatch>[2]): string {
    return formatMatch(this.key, this.mask, opts);
  }
}

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The exact flow of a frame, as `ovs-ofctl parse-pcap` prints it (in_port ANY). */
function parsePcapLine(frame: Uint8Array): string {
  const key = newFlowKey();
  key[W_IN_PORT] = OFPP_NONE;
  flowExtract(frame, 0, frame.length, key, newPacketLayers());
  return formatMatch(key, undefined);
}

describe("formatMatch with a mask (as ovs-ofctl parse-flow echoes matches)", () => {
  it("prints the tcp shorthand, masked MAC, CIDR, hex port mask and +/- TCP flags", () => {
    const m = new Match()
      .ip()
      .proto(6)
      .set(W_DL_DST_HI, 0x0100, 0x0100)
      .set(W_NW_DST, 0x0a000000, 0xffffff00)
      .set(W_TP, 0x50, 0xfff0)
      .set(W_TCP_FLAGS, 0x002, 0x012);
    expect(m.format()).toBe(
      "tcp,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,nw_dst=10.0.0.0/24,tp_dst=0x50/0xfff0,tcp_flags=+syn-ack",
    );
  });

  it("prints ICMPv6 type and code and the ND reserved and option-type fields", () => {
    const m = new Match()
      .ipv6()
      .proto(58)
      .set(W_TP, (135 << 16) | 0)
      .set(W_IGMP_GROUP, 5)
      .set(W_TCP_FLAGS, 1, 0xff);
    expect(m.format()).toBe("icmp6,icmp_type=135,icmp_code=0,nd_reserved=5,nd_options_type=1");
  });

  it("prints IPv6 prefixes, a non-CIDR IPv6 mask, a masked label and the IP byte fields", () => {
    const m = new Match().ipv6();
    m.set(W_IPV6_SRC, 0x20010db8);
    m.set(W_IPV6_DST + 3, 1, 0xffff);
    m.set(W_IPV6_LABEL, 5, 0xf);
    m.set(W_NW, 4, 0xfc, 16).set(W_NW, 1, 0x3, 16).set(W_NW, 3, 0xff, 8).set(W_NW, 1, 3, 24);
    expect(m.format()).toBe(
      "ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1/::ffff,ipv6_label=0x00005/0x0000f,nw_tos=4,nw_ecn=1,nw_ttl=3,nw_frag=first",
    );
  });

  it("prints the four parts of the top MPLS label", () => {
    const m = new Match()
      .set(W_DL_TYPE, 0x8847, 0xffff)
      .set(W_MPLS0, (5 << 12) | (3 << 9) | 0x100 | 4);
    expect(m.format()).toBe("mpls,mpls_label=5,mpls_tc=3,mpls_ttl=4,mpls_bos=1");
    const mm = new Match().set(W_DL_TYPE, 0x8848, 0xffff).set(W_MPLS0, 3, 0xfffff, 12);
    expect(mm.format()).toBe("mplsm,mpls_label=3");
  });

  it("prints a non-CIDR IPv4 mask in dotted form and the partial nw_frag forms", () => {
    const m = new Match().ip().set(W_NW_SRC, 0x01000300, 0xff00ff00).set(W_NW, 1, 1, 24);
    expect(m.format()).toBe("ip,nw_src=1.0.3.0/255.0.255.0,nw_frag=yes");
    expect(new Match().ip().set(W_NW, 0, 2, 24).format()).toBe("ip,nw_frag=not_later");
  });

  it("prints ARP and RARP fields under their ARP names", () => {
    const m = new Match()
      .set(W_DL_TYPE, 0x0806, 0xffff)
      .proto(2)
      .set(W_ARP_SHA_HI, 0x0001, 0xffff)
      .set(W_ARP_SHA_LO, 0x02000000, 0xff000000);
    expect(m.format()).toBe("arp,arp_op=2,arp_sha=00:01:02:00:00:00/ff:ff:ff:00:00:00");
    const r = new Match().set(W_DL_TYPE, 0x8035, 0xffff).set(W_NW_DST, 0x01020000, 0xffff0000);
    expect(r.format()).toBe("rarp,arp_tpa=1.2.0.0/16");
  });

  it("prints metadata, registers, tunnel fields and a named in_port in OVS's order", () => {
    const m = new Match()
      .set(W_PKT_MARK, 5, 0xff)
      .set(W_REG0, 3)
      .set(W_REG0 + 3, 0x10, 0xf0)
      .set(W_TUN_ID_HI, 0)
      .set(W_TUN_ID_LO, 0x64)
      .set(W_TUN_SRC, 0x01010101)
      .set(W_TUN_DST, 0x02020202)
      .set(W_METADATA_HI, 0)
      .set(W_METADATA_LO, 5)
      .set(W_IN_PORT, OFPP_LOCAL);
    expect(m.format()).toBe(
      "pkt_mark=0x5/0xff,reg0=0x3,reg3=0x10/0xf0,tun_id=0x64,tun_src=1.1.1.1,tun_dst=2.2.2.2,metadata=0x5,in_port=LOCAL",
    );
  });

  it("prints masked 64-bit tun_id and metadata in hex", () => {
    const m = new Match()
      .set(W_TUN_ID_LO, 5, 0xff)
      .set(W_METADATA_HI, 1, 0xf)
      .set(W_METADATA_LO, 0x23456780, 0xfffffff0);
    expect(m.format()).toBe("tun_id=0x5/0xff,metadata=0x123456780/0xffffffff0");
  });

  it("prints zero-valued exact fields as 0, as C's %#x does", () => {
    const m = new Match()
      .set(W_PKT_MARK, 0)
      .set(W_REG0 + 1, 0)
      .set(W_TUN_ID_HI, 0)
      .set(W_TUN_ID_LO, 0)
      .set(W_METADATA_HI, 0)
      .set(W_METADATA_LO, 0);
    expect(m.format()).toBe("pkt_mark=0,reg1=0,tun_id=0,metadata=0");
  });

  it("prints priority, recirc_id and in_port, and eth only when packet_type is pinned", () => {
    const m = new Match().set(W_RECIRC_ID, 0).set(W_IN_PORT, 3);
    expect(m.format({ priority: 5, packetTypeMasked: false })).toBe(
      "priority=5,recirc_id=0,in_port=3",
    );
    expect(
      new Match().set(W_RECIRC_ID, 0).ip().set(W_IN_PORT, 1).set(W_NW, 0, 3, 24).format(),
    ).toBe("recirc_id=0,eth,ip,in_port=1,nw_frag=no");
  });

  it("prints a tunnel megaflow as ofproto/trace's Megaflow: line", () => {
    const m = new Match()
      .set(W_RECIRC_ID, 0)
      .ip()
      .set(W_TUN_ID_HI, 0)
      .set(W_TUN_ID_LO, 0x64)
      .set(W_TUN_SRC, 0x0a000001)
      .set(W_TUN_DST, 0x0a000002)
      .set(W_TUN_TOS_TTL, 0, 0xff, 8)
      .set(W_TUN_FLAGS, 4, 7)
      .set(W_IN_PORT, 2)
      .set(W_DL_SRC_HI, 0, 0xffff)
      .set(W_DL_SRC_LO, 1)
      .set(W_DL_DST_HI, 0, 0xffff)
      .set(W_DL_DST_LO, 2)
      .set(W_NW, 0, 3, 24);
    expect(m.format()).toBe(
      "recirc_id=0,eth,ip,tun_id=0x64,tun_src=10.0.0.1,tun_dst=10.0.0.2,tun_tos=0,tun_flags=-df-csum+key,in_port=2,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_frag=no",
    );
  });

  it("formats in_port through the caller's port names, falling back to numbers", () => {
    const m = new Match().set(W_IN_PORT, 2);
    expect(m.format({ portName: (p) => (p === 2 ? "vm1" : undefined) })).toBe("in_port=vm1");
    expect(new Match().set(W_IN_PORT, 7).format({ portName: () => undefined })).toBe("in_port=7");
  });

  it("prints IPv6 tunnel endpoints and a masked dp_hash", () => {
    const m = new Match().set(W_DP_HASH, 3, 0xf).set(W_IN_PORT, OFPP_LOCAL);
    m.set(W_TUN_IPV6_SRC, 0x20010db8)
      .set(W_TUN_IPV6_SRC + 1, 0)
      .set(W_TUN_IPV6_SRC + 2, 0);
    m.set(W_TUN_IPV6_SRC + 3, 1);
    for (let i = 0; i < 4; i++) m.set(W_TUN_IPV6_DST + i, i === 3 ? 1 : 0);
    expect(m.format()).toBe(
      "dp_hash=0x3/0xf,tun_ipv6_src=2001:db8::1,tun_ipv6_dst=::1,in_port=LOCAL",
    );
  });

  it("prints tunnel flags whole when fully masked and as +/- when partly masked", () => {
    expect(
      new Match().ip().proto(6).set(W_TUN_FLAGS, 0, 8).set(W_TCP_FLAGS, 0x12, 0xfff).format(),
    ).toBe("tcp,tun_flags=-oam,tcp_flags=syn|ack");
    expect(new Match().set(W_TUN_FLAGS, 5, 0xffff).format()).toBe("tun_flags=df|key");
    expect(new Match().set(W_TUN_FLAGS, 4, 7).format()).toBe("tun_flags=-df-csum+key");
    expect(new Match().set(W_TUN_TOS_TTL, (0x1c << 8) | 64, 0xffff).format()).toBe(
      "tun_tos=1c,tun_ttl=64",
    );
  });

  it("prints every TCP flag name, and 0 for no flags under an exact mask", () => {
    const all = new Match().ipv6().proto(6).set(W_TCP_FLAGS, 0x1ff, 0x1ff);
    expect(all.format()).toBe("tcp6,tcp_flags=+fin+syn+rst+psh+ack+urg+ece+cwr+ns");
    expect(new Match().ip().proto(6).set(W_TCP_FLAGS, 0, 0xfff).format()).toBe("tcp,tcp_flags=0");
  });

  it("prints dl_vlan for a clean VID match and vlan_tci for anything else", () => {
    expect(new Match().set(W_VLAN0, 0x1005, 0x1fff).format()).toBe("dl_vlan=5");
    expect(new Match().set(W_VLAN0, 0x1000 | (3 << 13) | 10, 0xffff).format()).toBe(
      "dl_vlan=10,dl_vlan_pcp=3",
    );
    expect(new Match().set(W_VLAN0, 0x2000, 0xe000).format()).toBe("vlan_tci=0x2000/0xe000");
    expect(new Match().set(W_VLAN0, 0x1000, 0x1000).format()).toBe("vlan_tci=0x1000/0x1000");
    expect(new Match().set(W_VLAN0, 0, 0xffff).format()).toBe("vlan_tci=0x0000");
  });

  it("prints an unknown EtherType as dl_type after the MACs and nw_proto for unnamed protocols", () => {
    const m = new Match()
      .set(W_DL_TYPE, 0x1234, 0xffff)
      .set(W_DL_SRC_HI, 0xaabb, 0xffff)
      .set(W_DL_SRC_LO, 0xccddeeff);
    expect(m.format()).toBe("dl_src=aa:bb:cc:dd:ee:ff,dl_type=0x1234");
    expect(new Match().ipv6().proto(89).format()).toBe("ipv6,nw_proto=89");
    expect(new Match().ip().proto(16).set(W_NW, 0x10, 0xfc, 16).format()).toBe(
      "ip,nw_proto=16,nw_tos=16",
    );
  });

  it("prints ND target prefixes and link-layer addresses", () => {
    const m = new Match().ipv6().proto(58).set(W_TP, 135, 0xffff, 16);
    m.set(W_ND_TARGET, 0xfe800000, 0xffc00000);
    m.set(W_ARP_SHA_HI, 0).set(W_ARP_SHA_LO, 1);
    expect(m.format()).toBe("icmp6,icmp_type=135,nd_target=fe80::/10,nd_sll=00:00:00:00:00:01");
  });

  it("prints NSH fields, with contexts only for MD type 1", () => {
    const m = new Match()
      .set(W_DL_TYPE, 0x894f, 0xffff)
      .set(W_NSH_BASE, 1, 0xff, 24)
      .set(W_NSH_BASE, 1, 0xff, 8)
      .set(W_NSH_PATH, 5, 0xffffff, 8)
      .set(W_NSH_PATH, 3, 0xff)
      .set(W_NSH_C1, 5);
    expect(m.format()).toBe(
      "dl_type=0x894f,nsh_flags=1,nsh_mdtype=1,nsh_spi=0x5,nsh_si=3,nsh_c1=0x5",
    );
  });

  it("prints an empty string for a catch-all mask", () => {
    expect(formatMatch(newFlowKey().fill(7), newFlowKey())).toBe("");
  });
});

describe("formatMatch without a mask (as ovs-ofctl parse-pcap prints packets)", () => {
  const ETH = "ffffffffffff 001122334455";

  it("prints a UDP packet with DSCP and ECN split", () => {
    const frame = hex(
      `${ETH} 0800 452b 0024 0001 0000 0711 0000 0a000001 0a000002 04d2 0050 0010 0000 7878787878787878`,
    );
    expect(parsePcapLine(frame)).toBe(
      "udp,in_port=ANY,vlan_tci=0x0000,dl_src=00:11:22:33:44:55,dl_dst=ff:ff:ff:ff:ff:ff,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=40,nw_ecn=3,nw_ttl=7,nw_frag=no,tp_src=1234,tp_dst=80",
    );
  });

  it("prints a VLAN-tagged ARP request with the empty inner tag as vlan_tci1", () => {
    const arp = "0001 0800 0604 0001 02fc00000001 01020304 000000000000 01020305";
    const frame = hex(`02fc00000005 02fc00000001 8100 600a 0806 ${arp}`);
    expect(parsePcapLine(frame)).toBe(
      "arp,in_port=ANY,dl_vlan=10,dl_vlan_pcp=3,vlan_tci1=0x0000,dl_src=02:fc:00:00:00:01,dl_dst=02:fc:00:00:00:05,arp_spa=1.2.3.4,arp_tpa=1.2.3.5,arp_op=1,arp_sha=02:fc:00:00:00:01,arp_tha=00:00:00:00:00:00",
    );
  });

  it("prints a truncated IPv4 packet with zeroed L3 fields, as OVS does", () => {
    const frame = hex("ffffffffffff 02fc00000001 0800 4500");
    expect(parsePcapLine(frame)).toBe(
      "ip,in_port=ANY,vlan_tci=0x0000,dl_src=02:fc:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no",
    );
  });

  it("prints an MPLS stack as the top label's parts and the next entry whole", () => {
    const frame = hex(`${ETH} 8847 00005000 00006100`);
    expect(parsePcapLine(frame).replace(/dl_src=[^,]*,/, "")).toBe(
      "mpls,in_port=ANY,vlan_tci=0x0000,dl_dst=ff:ff:ff:ff:ff:ff,mpls_label=5,mpls_tc=0,mpls_ttl=0,mpls_bos=0,mpls_lse1=24832",
    );
  });

  it("prints a tunnelled packet's Flow: line as ofproto/trace does", () => {
    const key = newFlowKey();
    key[W_TUN_ID_LO] = 0x64;
    key[W_TUN_SRC] = 0x0a000001;
    key[W_TUN_DST] = 0x0a000002;
    key[W_TUN_FLAGS] = 4;
    key[W_TUN_TOS_TTL] = 64;
    key[W_IN_PORT] = 2;
    const frame = hex(
      "000000000002 000000000001 0800 4500 0024 0000 0000 4011 0000 01010101 02020202 0001 0035 0010 0000 7878787878787878",
    );
    flowExtract(frame, 0, frame.length, key, newPacketLayers());
    expect(formatFlow(key, { portName: (p) => (p === 2 ? "vx" : undefined) })).toContain(
      "tun_flags=key,in_port=vx,",
    );
    expect(formatMatch(key, undefined)).toBe(
      "udp,tun_id=0x64,tun_src=10.0.0.1,tun_dst=10.0.0.2,tun_ipv6_src=::,tun_ipv6_dst=::,tun_gbp_id=0,tun_gbp_flags=0,tun_tos=0,tun_ttl=64,tun_erspan_ver=0,gtpu_flags=0,gtpu_msgtype=0,tun_flags=key,in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=1.1.1.1,nw_dst=2.2.2.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=1,tp_dst=53",
    );
  });

  it("omits in_port when it is zero and prints nonzero metadata, registers and tunnel", () => {
    const key = newFlowKey();
    key[W_REG0 + 2] = 9;
    key[W_TUN_DST] = 0x0a000002;
    key[W_TUN_SRC] = 0x0a000001;
    key[W_TUN_ID_LO] = 0x64;
    key[W_TUN_FLAGS] = 4;
    key[W_TUN_TOS_TTL] = 64;
    flowExtract(hex(`${ETH} 88cc 0000`), 0, 16, key, newPacketLayers());
    expect(formatMatch(key, undefined)).toBe(
      "reg2=0x9,tun_id=0x64,tun_src=10.0.0.1,tun_dst=10.0.0.2,tun_ipv6_src=::,tun_ipv6_dst=::,tun_gbp_id=0,tun_gbp_flags=0,tun_tos=0,tun_ttl=64,tun_erspan_ver=0,gtpu_flags=0,gtpu_msgtype=0,tun_flags=key,vlan_tci=0x0000,dl_src=00:11:22:33:44:55,dl_dst=ff:ff:ff:ff:ff:ff,dl_type=0x88cc",
    );
  });
});

describe("flowWildcardsForPacket", () => {
  it("unwildcards only the fields a packet's protocols carry", () => {
    const key = newFlowKey();
    const frame = hex(`ffffffffffff 001122334455 0806 0001 0800 0604 0001 ${"00".repeat(20)}`);
    flowExtract(frame, 0, frame.length, key, newPacketLayers());
    const mask = newFlowKey();
    flowWildcardsForPacket(key, mask);
    expect(mask[W_NW_SRC]).toBe(0xffffffff);
    expect(mask[W_NW]).toBe(0xff);
    expect(mask[W_TP]).toBe(0);
    expect(mask[W_IPV6_SRC]).toBe(0);
    expect(mask[W_DL_DST_LO]).toBe(0xffffffff);
    expect(mask.length).toBe(FLOW_WORDS);
  });

  it("masks tcp_flags for TCP and the ports only when the packet is not a later fragment", () => {
    const key = newFlowKey();
    key[W_DL_TYPE] = 0x0800;
    key[W_NW] = 6;
    const mask = newFlowKey();
    flowWildcardsForPacket(key, mask);
    expect(mask[W_TP]).toBe(0xffffffff);
    expect(mask[W_TCP_FLAGS]).not.toBe(0);
    key[W_NW] = (3 << 24) | 6;
    flowWildcardsForPacket(key, mask);
    expect(mask[W_TP]).toBe(0);
  });
});

describe("formatOfPort and the field table", () => {
  it("names OpenFlow's reserved ports and prints others in decimal", () => {
    expect(formatOfPort(OFPP_LOCAL)).toBe("LOCAL");
    expect(formatOfPort(OFPP_NONE)).toBe("ANY");
    expect(formatOfPort(0xfffa)).toBe("NORMAL");
    expect(formatOfPort(42)).toBe("42");
  });

  it("finds fields by name and by alias and keeps every field inside the key", () => {
    expect(findFlowField("nw_src")?.word).toBe(W_NW_SRC);
    expect(findFlowField("ip_dst")?.name).toBe("nw_dst");
    expect(findFlowField("eth_src")?.name).toBe("dl_src");
    expect(findFlowField("no_such_field")).toBeUndefined();
    for (const field of FLOW_FIELDS) {
      const words = field.bits > 32 ? Math.ceil(field.bits / 32) : 1;
      expect(field.word + words).toBeLessThanOrEqual(FLOW_WORDS);
      if (field.bits <= 32) expect(field.shift + field.bits).toBeLessThanOrEqual(32);
    }
    expect(findFlowField("mpls_lse1")?.input).toBe(false);
    expect(findFlowField("tp_src")?.input).toBe(true);
    expect(findFlowField("igmp_type")).toBeUndefined();
    expect(findFlowField("nw_tos")?.valueMask).toBe(0xfc);
    expect(findFlowField("nw_ecn")?.valueMask).toBe(0x03);
    const names = FLOW_FIELDS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("places the MAC, ND and TCP flag fields where extraction writes them", () => {
    expect(findFlowField("dl_dst")?.word).toBe(W_DL_DST_HI);
    expect(findFlowField("nd_sll")?.word).toBe(W_ARP_SHA_HI);
    expect(findFlowField("tcp_flags")?.word).toBe(W_TCP_FLAGS);
    expect(findFlowField("dl_src")?.word).toBe(W_DL_SRC_HI);
    expect(W_DL_SRC_LO).toBe(W_DL_SRC_HI + 1);
    expect(W_DL_DST_LO).toBe(W_DL_DST_HI + 1);
    expect(W_ARP_SHA_LO).toBe(W_ARP_SHA_HI + 1);
  });
});
