import { describe, expect, it } from "vitest";
import { Dpif, isTunnelPort, parseOdpKey } from "../../datapath/index.js";
import {
  FLOW_WORDS,
  internetChecksum,
  onesSum,
  W_TUN_DST,
  W_TUN_FLAGS,
  W_TUN_ID_LO,
  W_TUN_TOS_TTL,
} from "../../packet/index.js";
import {
  decodeGre,
  decodeVxlan,
  OverlayError,
  parseTunnelPortConfig,
  TunnelStack,
  UNDERLAY_TX,
  type Underlay,
} from "./_overlay.js";

const clock = { nowNs: () => 0 };

function recorder(mtu = 1500) {
  const sent: Uint8Array[] = [];
  const underlay: Underlay = {
    route: (dst) => (dst >>> 24 === 192 ? { dev: "eth0", srcIp: 0xc0a80101, mtu } : undefined),
    sendIpv4: (p, o, l) => {
      sent.push(p.slice(o, o + l));
      return UNDERLAY_TX.SENT;
    },
  };
  return { sent, underlay };
}

function inner(tos = 0): Uint8Array {
  const f = new Uint8Array(60);
  f.set([0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, tos, 0, 46, 0, 0, 0, 0, 64, 17], 0);
  f.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  const c = internetChecksum(f, 14, 20);
  f[24] = c >>> 8;
  f[25] = c & 0xff;
  return f;
}

function port(type: string, options: Record<string, string>, mtu = 1500) {
  const r = recorder(mtu);
  const dpif = new Dpif({ clock });
  const stack = new TunnelStack({ underlay: r.underlay });
  stack.attach(dpif);
  dpif.addPort({ name: "t", type, portNo: 5, options });
  const impl = dpif.getPort(5)!.impl;
  if (!isTunnelPort(impl)) throw new Error("not a tunnel port");
  return {
    ...r,
    dpif,
    stack,
    send: (f: Uint8Array, key = new Uint32Array(FLOW_WORDS)) =>
      impl.transmitTunnel(f, 0, f.length, key),
  };
}

describe("tunnel port options", () => {
  it("default to TTL 64, TOS 0, DF set, UDP 4789, no checksum, the route's source", () => {
    const p = port("vxlan", { remote_ip: "192.168.1.2", key: "9" });
    p.send(inner(0x2e));
    const o = p.sent[0];
    expect(o[8]).toBe(64);
    expect(o[1]).toBe(0);
    expect(o[6] & 0x40).toBe(0x40);
    expect([...o.subarray(12, 16)]).toEqual([192, 168, 1, 1]);
    expect((o[22] << 8) | o[23]).toBe(4789);
    expect((o[26] << 8) | o[27]).toBe(0);
    expect(onesSum(o, 0, 20)).toBe(0xffff);
    expect(decodeVxlan(o, 28)).toEqual({ vni: 9 });
  });

  it("apply ttl, tos=inherit, df_default=false, dst_port, local_ip and csum", () => {
    const p = port("vxlan", {
      remote_ip: "192.168.1.2",
      local_ip: "192.168.1.7",
      key: "9",
      ttl: "10",
      tos: "inherit",
      df_default: "false",
      dst_port: "8472",
      csum: "true",
    });
    p.send(inner(0x2e));
    const o = p.sent[0];
    expect(o[8]).toBe(10);
    expect(o[1]).toBe(0x2e);
    expect(o[6] & 0x40).toBe(0);
    expect([...o.subarray(12, 16)]).toEqual([192, 168, 1, 7]);
    expect((o[22] << 8) | o[23]).toBe(8472);
    expect((o[26] << 8) | o[27]).not.toBe(0);
  });

  it("take remote_ip=flow and key=flow from set(tunnel(...)) metadata", () => {
    const p = port("gre", { remote_ip: "flow", key: "flow" });
    const key = new Uint32Array(FLOW_WORDS);
    key[W_TUN_DST] = 0xc0a80109;
    key[W_TUN_ID_LO] = 0xdeadbeef;
    key[W_TUN_FLAGS] = 4;
    key[W_TUN_TOS_TTL] = (0x10 << 8) | 33;
    p.send(inner(), key);
    const o = p.sent[0];
    expect([...o.subarray(16, 20)]).toEqual([192, 168, 1, 9]);
    expect(o[8]).toBe(33);
    expect(o[1]).toBe(0x10);
    expect(decodeGre(o, 20).key).toBe(0xdeadbeef);
  });

  it("drop and count: no remote address, no route, and a frame over the MTU", () => {
    const flow = port("vxlan", { remote_ip: "flow" });
    flow.send(inner());
    expect(flow.stack.stats().drops.no_remote).toBe(1);
    const far = port("vxlan", { remote_ip: "10.9.9.9" });
    far.send(inner());
    expect(far.stack.stats().drops.no_route).toBe(1);
    const small = port("vxlan", { remote_ip: "192.168.1.2" }, 60 + 36 - 1);
    small.send(inner());
    expect(small.stack.stats().drops.mtu_exceeded).toBe(1);
    const fits = port("vxlan", { remote_ip: "192.168.1.2" }, 60 + 36);
    fits.send(inner());
    expect(fits.sent).toHaveLength(1);
  });

  it("are refused with a message naming the option when invalid", () => {
    expect(() => parseTunnelPortConfig(1, "t", "vxlan", {})).toThrow(/remote_ip/);
    expect(() => parseTunnelPortConfig(1, "t", "vxlan", { remote_ip: "1.2.3" })).toThrow(
      OverlayError,
    );
    expect(() => parseTunnelPortConfig(1, "t", "vxlan", { remote_ip: "flow", key: "x" })).toThrow(
      /options:key=x/,
    );
    expect(() =>
      parseTunnelPortConfig(1, "t", "gre", { remote_ip: "flow", dst_port: "5" }),
    ).toThrow(/GRE has no UDP port/);
    expect(() => parseTunnelPortConfig(1, "t", "vxlan", { remote_ip: "flow", ttl: "0" })).toThrow(
      /ttl/,
    );
    expect(
      parseTunnelPortConfig(1, "t", "vxlan", { remote_ip: "flow", in_key: "5", out_key: "flow" }),
    ).toMatchObject({
      inKey: 5,
      outKey: -1,
    });
  });
});

describe("receiving tunnel port selection", () => {
  it("prefers a port with a fixed remote_ip over remote_ip=flow, and a fixed key over key=flow", () => {
    const tx = port("vxlan", { remote_ip: "192.168.1.2", key: "9" });
    tx.send(inner());
    const outer = tx.sent[0];
    const rx = new Dpif({ clock });
    const stack = new TunnelStack();
    stack.attach(rx);
    const got: number[] = [];
    for (const [n, o] of [
      [1, { remote_ip: "flow", key: "flow" }],
      [2, { remote_ip: "192.168.1.1", key: "flow" }],
      [3, { remote_ip: "192.168.1.1", key: "9" }],
      [4, { remote_ip: "flow", key: "9" }],
    ] as const) {
      rx.addPort({ name: `vx${n}`, type: "vxlan", portNo: n, options: o });
      rx.addPort({
        name: `vm${n}`,
        type: "netdev",
        portNo: 10 + n,
        port: { transmit: () => got.push(n) },
      });
      const { key, mask } = parseOdpKey(`in_port(${n}),eth()`);
      rx.flowPut(key, mask, String(10 + n));
    }
    stack.receiveIpv4(outer, 0, outer.length);
    rx.delPort(3);
    stack.receiveIpv4(outer, 0, outer.length);
    rx.delPort(2);
    stack.receiveIpv4(outer, 0, outer.length);
    rx.delPort(4);
    stack.receiveIpv4(outer, 0, outer.length);
    expect(got).toEqual([3, 2, 4, 1]);
  });

  it("returns false for UDP that no tunnel port listens on, so the host stack can answer it", () => {
    const tx = port("vxlan", { remote_ip: "192.168.1.2", key: "9", dst_port: "5555" });
    tx.send(inner());
    const rx = new Dpif({ clock });
    const stack = new TunnelStack();
    stack.attach(rx);
    rx.addPort({ name: "vx", type: "vxlan", portNo: 1, options: { remote_ip: "flow" } });
    expect(stack.receiveIpv4(tx.sent[0], 0, tx.sent[0].length)).toBe(false);
    expect(stack.udpPorts()).toEqual([4789]);
  });
});
