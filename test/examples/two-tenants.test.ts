import { describe, expect, it } from "vitest";
import { build } from "../../examples/two-tenants.js";

describe("example: two tenants isolated by VNI", () => {
  it("reaches within a tenant and never across, even with the same addresses", async () => {
    const net = await build().start();
    const all = await net.pingAll();
    expect(all.mismatches).toEqual([]);
    expect(
      all.pairs
        .filter((p) => p.actual)
        .map((p) => `${p.from}>${p.to}`)
        .sort(),
    ).toEqual([
      "blue1>blue2",
      "blue1>blue3",
      "blue2>blue1",
      "blue2>blue3",
      "blue3>blue1",
      "blue3>blue2",
      "red1>red2",
      "red2>red1",
    ]);
    await net.stop();
  });

  it("carries each tenant in its own VNI", async () => {
    const net = await build().start();
    await net.ping("red1", "red2", { count: 1 });
    await net.ping("blue1", "blue2", { count: 1 });
    const flows = net.host("hv1").dpctlDumpFlows();
    expect(flows).toContain("tun_id=0x64");
    expect(flows).toContain("tun_id=0xc8");
    await net.stop();
  });
});
