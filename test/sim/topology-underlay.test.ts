import { describe, expect, it } from "vitest";
import { UnderlaySwitch } from "../../sim/underlay-switch.js";
import { World } from "../../sim/world.js";

function threeHosts() {
  const world = new World({ seed: 1 });
  const sw = new UnderlaySwitch("tor");
  const hosts = [1, 2, 3].map((i) =>
    world.endpoint(`h${i}`, { vnics: [{ ipv4: `10.0.0.${i}/24` }] }),
  );
  const links = hosts.map((h) => world.link(h.vnics[0]!, sw.nextPort(), { latency: "1us" }));
  world.run({ untilNs: 1e6 });
  return { world, sw, hosts, links };
}

describe("UnderlaySwitch", () => {
  it("forwards between hosts so that they ping each other", () => {
    const { world, hosts } = threeHosts();
    const s = hosts[0]!.ping("10.0.0.3", { count: 2 });
    world.runUntil(() => s.done);
    expect(s.result.received).toBe(2);
  });

  it("sends learnt unicast out of one port only", () => {
    const { world, sw, hosts } = threeHosts();
    const s = hosts[0]!.ping("10.0.0.2", { count: 3 });
    world.runUntil(() => s.done);
    const p3 = sw.ports[2]!;
    const before = p3.tx;
    const t = hosts[0]!.ping("10.0.0.2", { count: 3 });
    world.runUntil(() => t.done);
    expect(p3.tx).toBe(before);
    expect(sw.fdbShow().length).toBeGreaterThanOrEqual(2);
  });

  it("forgets MACs of a port whose link goes down", () => {
    const { world, sw, hosts, links } = threeHosts();
    const s = hosts[0]!.ping("10.0.0.2", { count: 1 });
    world.runUntil(() => s.done);
    const n = sw.fdbShow().length;
    links[1]!.setUp(false);
    expect(sw.fdbShow().length).toBeLessThan(n);
  });
});
