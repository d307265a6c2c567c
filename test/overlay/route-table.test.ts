import { describe, expect, it } from "vitest";
import {
  encodeTunnelHeader,
  formatTunnelHeader,
  NeighCache,
  parseIpv4Text,
  parseMacText,
  RouteTable,
} from "../../overlay/index.js";

describe("the tunnel route table", () => {
  it("picks the longest matching prefix", () => {
    const rt = new RouteTable();
    rt.add("1.1.0.0/16", "br-a");
    rt.add("1.1.2.0/24", "br-b");
    rt.add("0.0.0.0/0", "br-c", "1.1.1.1");
    expect(rt.lookup(parseIpv4Text("1.1.2.77"))?.dev).toBe("br-b");
    expect(rt.lookup(parseIpv4Text("1.1.9.9"))?.dev).toBe("br-a");
    expect(rt.lookup(parseIpv4Text("8.8.8.8"))?.gw).toBe(parseIpv4Text("1.1.1.1"));
  });

  it("masks the prefix it is given and prints ovs/route/show", () => {
    const rt = new RouteTable();
    rt.add("1.1.2.77/24", "br-phy");
    expect(rt.show()).toBe("Route Table:\nUser: 1.1.2.0/24 dev br-phy\n");
    expect(rt.delete("1.1.2.0/24")).toBe(true);
    expect(rt.lookup(parseIpv4Text("1.1.2.77"))).toBeUndefined();
  });

  it("refuses a bad prefix length", () => {
    expect(() => new RouteTable().add("1.1.2.0/33", "br0")).toThrow(/prefix length/);
  });
});

describe("the neighbour cache", () => {
  it("answers what tnl/neigh/set stored", () => {
    const nc = new NeighCache();
    nc.set("br-phy", parseIpv4Text("1.1.2.77"), parseMacText("f8:bc:12:44:34:b6"));
    expect(nc.lookup(parseIpv4Text("1.1.2.77"))?.dev).toBe("br-phy");
    expect(nc.lookup(parseIpv4Text("1.1.2.78"))).toBeUndefined();
    expect(nc.show()).toContain("f8:bc:12:44:34:b6");
    nc.flush();
    expect(nc.lookup(parseIpv4Text("1.1.2.77"))).toBeUndefined();
  });
});

describe("tnl_push headers", () => {
  const base = {
    ethDst: "f8:bc:12:44:34:b6",
    ethSrc: "aa:55:aa:55:00:01",
    ipSrc: "1.1.2.10",
    ipDst: "1.1.2.77",
    tos: 0,
    ttl: 64,
    df: true,
    csum: false,
    key: 300n,
  };

  it("print a VXLAN header exactly as OVS 3.1 does", () => {
    expect(formatTunnelHeader({ ...base, type: "vxlan", dstPort: 4789 })).toBe(
      "header(size=50,type=4,eth(dst=f8:bc:12:44:34:b6,src=aa:55:aa:55:00:01,dl_type=0x0800),ipv4(src=1.1.2.10,dst=1.1.2.77,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x12c))",
    );
  });

  it("size a GRE header by its key and checksum", () => {
    expect(formatTunnelHeader({ ...base, type: "gre", dstPort: 0 })).toContain(
      "header(size=42,type=3,",
    );
    expect(formatTunnelHeader({ ...base, type: "gre", dstPort: 0, key: undefined })).toContain(
      "size=38",
    );
  });
});

describe("tnl_push header bytes", () => {
  const params = {
    ethDst: "f8:bc:12:44:34:b6",
    ethSrc: "aa:55:aa:55:00:01",
    ipSrc: "1.1.2.10",
    ipDst: "1.1.2.77",
    tos: 0,
    ttl: 64,
    df: true,
    csum: false,
    key: 300n,
  };

  it("lay out Ethernet, IPv4 with a valid checksum, UDP and the VXLAN VNI", () => {
    const b = encodeTunnelHeader({ ...params, type: "vxlan", dstPort: 4789 });
    expect(b.length).toBe(50);
    expect(Array.from(b.subarray(0, 6))).toEqual([0xf8, 0xbc, 0x12, 0x44, 0x34, 0xb6]);
    expect(b[14 + 9]).toBe(17);
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
    expect((b[36]! << 8) | b[37]!).toBe(4789);
    expect(b[42]).toBe(0x08);
    expect((b[46]! << 16) | (b[47]! << 8) | b[48]!).toBe(300);
  });

  it("size GRE by its key and checksum words, matching the printed header", () => {
    expect(encodeTunnelHeader({ ...params, type: "gre", dstPort: 0 }).length).toBe(42);
    expect(encodeTunnelHeader({ ...params, type: "gre", dstPort: 0, key: undefined }).length).toBe(
      38,
    );
  });
});
