/**
 * Stock ovs-vsctl (Open vSwitch 3.1) against a running simulated hypervisor's OVSDB
 * socket: it adds a port and a VLAN tag, the next ping obeys them, and ovs-vsctl
 * without --no-wait returns because vswitchd writes cur_cfg after each next_cfg.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostVm, Hypervisor } from "../../sim/hypervisor.js";
import { World } from "../../sim/world.js";

const run = promisify(execFile);
const available = existsSync("/usr/bin/ovs-vsctl");
if (!available)
  console.warn(
    "skipping vsctl-live interop: /usr/bin/ovs-vsctl is not installed (apt-get install openvswitch-switch)",
  );

describe.skipIf(!available)("stock ovs-vsctl against a running hypervisor", () => {
  let dir: string;
  let sock: string;
  let world: World;
  let hv: Hypervisor;
  let vm1: HostVm;
  const vsctl = async (...args: string[]): Promise<string> => {
    const { stdout } = await run("ovs-vsctl", [`--db=unix:${sock}`, "--timeout=10", ...args]);
    return stdout;
  };
  const ping = (): number => {
    const p = vm1.endpoint.ping("10.0.0.2", { count: 2 });
    world.runUntil(() => p.done);
    return p.result.received;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ovsim-vsctl-live-"));
    sock = join(dir, "db.sock");
    world = new World({ seed: 3 });
    hv = new Hypervisor(world, "hv1", { socket: sock });
    await hv.start();
    await hv.addBridge("br0", { failMode: "standalone" });
    vm1 = hv.vm("vm1", { ip: "10.0.0.1/24" });
    hv.vm("vm2", { ip: "10.0.0.2/24" });
    await hv.attach(vm1, "br0", { tag: 10 });
  });
  afterAll(async () => {
    await hv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sees the bridge and port the host configured", async () => {
    expect(await vsctl("list-br")).toBe("br0\n");
    expect(await vsctl("list-ports", "br0")).toBe("tap-vm1\n");
    expect((await vsctl("get", "Interface", "tap-vm1", "ofport")).trim()).toBe("1");
  });

  it("adds a port with a VLAN tag, waiting for vswitchd, and the next ping obeys the tag", async () => {
    expect(ping()).toBe(0);
    await vsctl("add-port", "br0", "tap-vm2", "--", "set", "Port", "tap-vm2", "tag=20");
    const cur = (await vsctl("get", "Open_vSwitch", ".", "cur_cfg")).trim();
    expect(cur).toBe((await vsctl("get", "Open_vSwitch", ".", "next_cfg")).trim());
    expect((await vsctl("get", "Interface", "tap-vm2", "ofport")).trim()).toBe("2");
    expect(hv.appctl("dpif/show")).toContain("tap-vm2 2/");
    // Different VLANs: isolated.
    expect(ping()).toBe(0);
    await vsctl("set", "Port", "tap-vm2", "tag=10");
    expect(ping()).toBe(2);
  });

  it("removes the port again and traffic stops", async () => {
    await vsctl("del-port", "br0", "tap-vm2");
    expect(hv.appctl("dpif/show")).not.toContain("tap-vm2");
    expect(ping()).toBe(0);
  });
});
