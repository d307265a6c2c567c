import { describe, expect, it } from "vitest";
import { runCommand } from "../../cli/run.js";
import { build } from "../../examples/vlan-access-trunk.js";

describe("example: VLAN access and trunk ports", () => {
  it("reaches a VM of the same VLAN across the trunk", async () => {
    const net = await build().start();
    expect((await net.ping("red1", "red2", { count: 3 })).received).toBe(3);
    expect((await net.ping("blue1", "blue2", { count: 3 })).received).toBe(3);
    await net.stop();
  });

  it("isolates VLANs: the reachability matrix matches the expectation", async () => {
    const net = await build().start();
    const all = await net.pingAll();
    expect(all.mismatches).toEqual([]);
    expect(all.pairs.find((p) => p.from === "red1" && p.to === "stray")).toMatchObject({
      expected: false,
      actual: false,
    });
    expect(all.pairs.filter((p) => p.actual).length).toBe(4);
    await net.stop();
  });

  it("tags on the way into the trunk and strips on the way out, in the megaflows", async () => {
    const net = await build().start();
    await net.ping("red1", "red2", { count: 2 });
    const hv1 = net.host("hv1").dpctlDumpFlows();
    expect(hv1).toMatch(/eth_type\(0x0800\).*actions:push_vlan\(vid=10,pcp=0\),\d+/);
    expect(hv1).toMatch(/vlan\(vid=10,pcp=0\),encap\(eth_type\(0x0800\).*actions:pop_vlan,\d+/);
    await net.stop();
  });

  it("learns the remote VM's MAC on the trunk port in its VLAN", async () => {
    const net = await build().start();
    await net.ping("red1", "red2", { count: 1 });
    const mac = [...net.host("hv2").vms.get("red2")!.vnic.mac]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join(":");
    const fdb = net.host("hv1").appctl("fdb/show br0");
    const trunkOfport = /\s(\d+)\(eth1\)/.exec(net.host("hv1").ofctl("show br0"))![1];
    expect(fdb).toMatch(new RegExp(`^\\s+${trunkOfport}\\s+10\\s+${mac}`, "m"));
    await net.stop();
  });

  it("counts the traffic on the NORMAL rule of each bridge", async () => {
    const net = await build().start();
    await net.ping("red1", "red2", { count: 3 });
    net.run("2s");
    const m = /n_packets=(\d+).*priority=0 actions=NORMAL/.exec(
      net.host("hv2").ofctl("dump-flows br0"),
    );
    expect(Number(m![1])).toBeGreaterThanOrEqual(6);
    await net.stop();
  });

  it("loses pings while the trunk is down and recovers when it is back", async () => {
    const net = await build().start();
    expect((await net.ping("red1", "red2", { count: 1 })).received).toBe(1);
    net.linkDown("hv1:eth1");
    expect((await net.ping("red1", "red2", { count: 2 })).received).toBe(0);
    net.linkUp("hv1:eth1");
    expect((await net.ping("red1", "red2", { count: 2 })).received).toBe(2);
    await net.stop();
  });

  it("runs as YAML through ovsim run with the same reachability", async () => {
    let text = "";
    await runCommand("examples/vlan-access-trunk.yaml", { write: (s: string) => (text += s) });
    expect(text).toContain("red1 -> X red2 X");
    expect(text).toContain("*** Results: 67% dropped (4/12 received)");
    expect(text).toContain("journey red1 -> blue1");
  });

  it("runs as TypeScript through ovsim run", async () => {
    let text = "";
    await runCommand("examples/vlan-access-trunk.ts", { write: (s: string) => (text += s) });
    expect(text).toContain("red1 -> red2 (VLAN 10 over the trunk): 3/3 replies");
  });
});

describe("ovsim run on a bad file", () => {
  it("refuses an invalid YAML topology, naming the line, before starting anything", async () => {
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = join(mkdtempSync(join(tmpdir(), "ovsim-run-")), "bad.yaml");
    writeFileSync(
      file,
      "hosts:\n  hv1: { underlay: 192.168.0.1/24 }\nvms:\n  a: { host: hv9, ip: 10.0.0.1/24 }\n",
    );
    await expect(runCommand(file, { write: () => 0 })).rejects.toThrow(
      /bad\.yaml:4:3: vm "a" refers to unknown host "hv9"/,
    );
  });

  it("refuses a file type it cannot run", async () => {
    await expect(runCommand("topology.txt", { write: () => 0 })).rejects.toThrow(/expected a \.ts/);
  });
});
