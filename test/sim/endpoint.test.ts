import { describe, expect, it } from "vitest";
import { World } from "../../sim/world.js";

describe("endpoint and vNIC configuration", () => {
  it("allocates sequential locally administered MACs and names vNICs after the endpoint", () => {
    const w = new World();
    const h = w.endpoint("web1", { kind: "container", vnics: [{ ipv4: "10.0.0.1/24" }, {}] });
    expect(h.vnics.map((v) => v.name)).toEqual(["web1-eth0", "web1-eth1"]);
    expect(h.vnics.map((v) => [v.macHi, v.macLo])).toEqual([
      [0x0200, 1],
      [0x0200, 2],
    ]);
    expect(h.vnic("eth1")).toBe(h.vnics[1]);
    expect(h.kind).toBe("container");
  });

  it("refuses addresses that are not addresses, naming the vNIC and the value", () => {
    const w = new World();
    expect(() => w.endpoint("h1", { vnics: [{ ipv4: "10.0.0.256/24" }] })).toThrow(
      'vnic h1-eth0: ipv4 "10.0.0.256/24" is not an address with a prefix length (write "10.0.0.1/24")',
    );
    expect(() => w.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1" }] })).toThrow(
      /is not an address with a prefix length/,
    );
    expect(() => w.endpoint("h1", { vnics: [{ ipv4: "fd00::1/64" }] })).toThrow(
      /is not an IPv4 address/,
    );
    expect(() => w.endpoint("h1", { vnics: [{ ipv6: "fd00::g/64" }] })).toThrow(
      'vnic h1-eth0: ipv6 "fd00::g/64" is not an address with a prefix length (write "fd00::1/64")',
    );
    expect(() => w.endpoint("h1", { vnics: [{ mac: "02:00:00:00:00" }] })).toThrow(
      'vnic h1-eth0: mac "02:00:00:00:00" is not a MAC address (write aa:bb:cc:dd:ee:ff)',
    );
    expect(() => w.endpoint("h1", { vnics: [{ mac: "01:00:5e:00:00:01" }] })).toThrow(
      /is a multicast address/,
    );
    expect(() =>
      w.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24", gateway4: "10.0.1.1" }] }),
    ).toThrow('vnic h1-eth0: gateway4 "10.0.1.1" is not on the vNIC\'s subnet (/24)');
    expect(() => w.endpoint("h1", { vnics: [{ gateway4: "10.0.1.1" }] })).toThrow(
      /needs an ipv4 address on the vNIC/,
    );
    expect(() => w.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] })).not.toThrow();
  });

  it("refuses an MTU of zero and an IPv6 vNIC below 1280, with a coded error", () => {
    const w = new World();
    expect(() => w.endpoint("h1", { vnics: [{ mtu: 0 }] })).toThrow(
      "vnic h1-eth0: mtu must be a whole number in [68, 65535], got 0",
    );
    expect(() => w.endpoint("h1", { vnics: [{ mtu: 1000, ipv6: "fd00::1/64" }] })).toThrow(
      expect.objectContaining({ code: "ERR_SIM_INVALID_PARAMETER" }),
    );
  });

  it("refuses a bad endpoint name, a duplicate vNIC name and bad neighbour timers", () => {
    const w = new World();
    expect(() => w.endpoint("h 1")).toThrow(/endpoint: name must be/);
    const h = w.endpoint("h1", { vnics: [{ name: "x" }] });
    expect(() => h.addVnic({ name: "x" })).toThrow(/vnic name must be unique, got x/);
    expect(() => w.endpoint("h2", { neighbor: { retransMs: -1 } })).toThrow(
      "endpoint h2: neighbor.retransMs must be a finite number >= 0, got -1",
    );
  });

  it("ignores unicast frames for another MAC and counts them", () => {
    const w = new World();
    const h1 = w.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
    const h2 = w.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
    w.link(h1.vnics[0], h2.vnics[0]);
    const frame = new Uint8Array(60);
    frame.set([0x02, 0, 0, 0, 0, 0x99], 0);
    h1.vnics[0].wire!.transmit(frame, 0, 60);
    w.runUntilIdle();
    expect(h2.vnics[0].rxOtherHost).toBe(1);
    expect(h2.counters.IpInReceives).toBe(0);
  });

  it("drops an IPv4 packet with a bad header checksum and counts it", () => {
    const w = new World();
    const h1 = w.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
    const h2 = w.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
    w.link(h1.vnics[0], h2.vnics[0]);
    const v = h2.vnics[0];
    const receive = v.receive.bind(v);
    v.receive = (f, o, l) => {
      if (f[o + 12] === 0x08 && f[o + 13] === 0) f[o + 14 + 8] ^= 1; // flip a TTL bit
      receive(f, o, l);
    };
    const p = h1.ping("10.0.0.2", { count: 1 });
    w.runUntilIdle();
    expect(p.result.received).toBe(0);
    expect(h2.counters.IpInHdrErrors).toBe(1);
  });

  it("runs the world until a ping is done with runUntil", () => {
    const w = new World();
    const h1 = w.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
    const h2 = w.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
    w.link(h1.vnics[0], h2.vnics[0], { latency: "1ms" });
    const p = h1.ping("10.0.0.2", { count: 2, intervalMs: 10 });
    expect(w.runUntil(() => p.done)).toBe(true);
    expect(p.result.received).toBe(2);
  });

  it("ignores a broadcast ping and sends no ICMP error about a broadcast datagram, as Linux does", () => {
    const w = new World();
    const h1 = w.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
    const h2 = w.endpoint("h2", { vnics: [{ ipv4: "10.0.0.2/24" }] });
    w.link(h1.vnics[0], h2.vnics[0], { latency: "1ms" });
    h1.addRoute("255.255.255.255/32", { dev: "eth0" });
    const p = h1.ping("10.0.0.255", { count: 1 });
    w.runUntilIdle();
    // Sent to ff:ff:ff:ff:ff:ff; h2 sees the echo request and does not answer.
    expect(p.result.received).toBe(0);
    expect(h2.counters.IcmpInEchos).toBe(1);
    expect(h2.counters.IcmpOutEchoReps).toBe(0);
    expect(h1.counters.ArpOutRequests).toBe(1); // only the gratuitous one
    const got: number[] = [];
    h2.udpSocket().bind(68).onMessage = (_d, _o, len) => got.push(len);
    h1.udpSocket().sendTo(new Uint8Array(5), "255.255.255.255", 68);
    h1.udpSocket().sendTo(new Uint8Array(5), "255.255.255.255", 69);
    w.runUntilIdle();
    expect(got).toEqual([5]);
    expect(h2.counters.UdpNoPorts).toBe(1);
    expect(h2.counters.IcmpOutDestUnreachs).toBe(0);
  });

  it("answers ARP for any of its addresses on whichever vNIC asks (arp_ignore=0)", () => {
    const w = new World();
    const r = w.endpoint("r", { vnics: [{ ipv4: "10.0.0.1/24" }, { ipv4: "10.0.9.1/24" }] });
    const h = w.endpoint("h", { vnics: [{ ipv4: "10.0.0.2/24" }] });
    w.link(h.vnics[0], r.vnics[0], { latency: "1ms" });
    h.addRoute("10.0.9.1/32", { dev: "eth0" });
    const p = h.ping("10.0.9.1", { count: 1 });
    w.runUntilIdle();
    expect(p.result.received).toBe(1);
  });
});
