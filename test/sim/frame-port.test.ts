import { describe, expect, it } from "vitest";
import { FramePort } from "../../sim/frame-port.js";
import { World } from "../../sim/world.js";

describe("FramePort", () => {
  it("lets a datapath-like port exchange frames with an endpoint across a link", () => {
    const world = new World();
    const h1 = world.endpoint("h1", { vnics: [{ ipv4: "10.0.0.1/24" }] });
    const seen: number[] = [];
    // A "switch port" that reflects every frame back, like a hairpin.
    const port: FramePort = new FramePort("s1-eth1", (frame, offset, length) => {
      seen.push(length);
      port.transmit(frame, offset, length);
    });
    world.link(h1.vnics[0], port, { latency: "1us" });
    world.runUntilIdle();
    // h1's gratuitous ARP reached the port and came back to h1.
    expect(seen).toEqual([60]);
    expect(h1.counters.ArpInRequests).toBe(1);
    expect(port.carrier).toBe(true);
  });

  it("counts frames it could not send while not on a link and reports carrier changes", () => {
    const world = new World();
    const changes: boolean[] = [];
    const port = new FramePort(
      "p",
      () => {},
      (up) => changes.push(up),
    );
    port.transmit(new Uint8Array(60), 0, 60);
    expect(port.txDropped).toBe(1);
    const other = new FramePort("q", () => {});
    const link = world.link(port, other);
    link.setUp(false);
    port.transmit(new Uint8Array(60), 0, 60);
    expect(port.txDropped).toBe(2);
    expect(changes).toEqual([false]);
  });
});
