/**
 * The Linux kernel's vxlan driver and an ovsim overlay interoperate: a network
 * namespace holds a kernel vxlan device (VNI 101) whose UDP socket stays in the root
 * namespace; an emulated VM sits behind an ovsim datapath whose VXLAN vport is bound to
 * real loopback UDP. Ping goes both ways. The recipe (why 127.255.255.255, why
 * nolearning) is ../shared/reference/cni/VXLAN-REALMODE-PROBE.md: the kernel's local
 * bypass would swallow packets sent to 127.0.0.1, so the kernel sends to the loopback
 * broadcast address on another port, where the ovsim socket listens.
 *
 * Needs root, `ip`, network namespaces and the vxlan module; otherwise it skips and
 * says which was missing. The namespace (and the device in it) is deleted in afterAll.
 */
import { spawn, spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { Dpif, parseOdpKey } from "../../datapath/index.js";
import { TunnelStack, UdpUnderlay } from "../../overlay/index.js";
import { FramePort, RealtimeDriver, World } from "../../sim/index.js";

const NS = `ovsimvx${process.pid}`;
const DEV = `vxk${process.pid % 100000}`;
/** The kernel listens on KPORT; ovsim on KPORT + 1 (the FDB entry's port). */
const KPORT = 16000 + (process.pid % 2000) * 2;
const VNI = 101;

function sh(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(args[0], args.slice(1), { encoding: "utf8" });
  return {
    ok: r.status === 0,
    err: `${args.join(" ")}: ${(r.stderr || r.error?.message || "").trim()}`,
  };
}

function setUp(): string {
  if (process.platform !== "linux") return "needs Linux network namespaces";
  if (process.getuid?.() !== 0)
    return "needs root to create a network namespace and a vxlan device (CI runs as root)";
  if (!sh(["ip", "-V"]).ok) return "needs iproute2 (`ip`)";
  if (!sh(["/usr/bin/python3", "-c", "import socket"]).ok)
    return "needs /usr/bin/python3 (the namespace side pings with a raw socket)";
  const steps = [
    ["ip", "netns", "add", NS],
    [
      "ip",
      "link",
      "add",
      DEV,
      "type",
      "vxlan",
      "id",
      String(VNI),
      "local",
      "127.0.0.1",
      "dstport",
      String(KPORT),
      "srcport",
      "30000",
      "30100",
      "nolearning",
    ],
    ["ip", "link", "set", DEV, "netns", NS],
    ["ip", "-n", NS, "addr", "add", "10.250.0.1/24", "dev", DEV],
    ["ip", "-n", NS, "link", "set", DEV, "mtu", "1400", "up"],
    [
      "ip",
      "netns",
      "exec",
      NS,
      "bridge",
      "fdb",
      "append",
      "00:00:00:00:00:00",
      "dev",
      DEV,
      "dst",
      "127.255.255.255",
      "port",
      String(KPORT + 1),
    ],
  ];
  for (const s of steps) {
    const r = sh(s);
    if (!r.ok) return `setup failed (${r.err})`;
  }
  return "";
}

function tearDown(): void {
  spawnSync("ip", ["netns", "del", NS]);
  spawnSync("ip", ["link", "del", DEV]);
}

const reason = setUp();
const available = reason === "";
if (!available) {
  console.warn(`overlay-kernel-vxlan interop: skipping: ${reason}`);
  tearDown();
}
afterAll(() => tearDown());

/**
 * A minimal ping (this image has no iputils): 3 ICMP echo requests over a raw socket,
 * printed the way ping summarises them.
 */
const PING_PY = `
import socket, struct, sys, time
def csum(b):
    if len(b) % 2: b += b"\\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
dst = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
got = 0
for seq in range(1, 4):
    body = struct.pack("!HH", 0x4f56, seq) + b"ovsim-kernel-vxlan-interop-test"
    pkt = struct.pack("!BBH", 8, 0, csum(b"\\x08\\0\\0\\0" + body)) + body
    s.sendto(pkt, (dst, 0))
    end = time.time() + 2
    while time.time() < end:
        try:
            data, addr = s.recvfrom(2048)
        except socket.timeout:
            break
        ihl = (data[0] & 15) * 4
        if addr[0] == dst and data[ihl] == 0 and struct.unpack("!HH", data[ihl + 4:ihl + 8]) == (0x4f56, seq):
            got += 1
            break
    time.sleep(0.2)
print("3 packets transmitted, %d received" % got)
`;

function run(cmd: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd[0], cmd.slice(1));
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.stderr.on("data", (d) => {
      out += d;
    });
    p.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

describe.skipIf(!available)("ovsim VXLAN and the kernel vxlan driver", () => {
  it("the namespace pings the emulated VM through the kernel vxlan device, and the VM pings back", async () => {
    const world = new World({ seed: 1 });
    const driver = new RealtimeDriver(world.scheduler);
    const dpif = new Dpif({ name: "hv", clock: world });
    const stack = new TunnelStack({ name: "hv" });
    stack.attach(dpif);
    const vm = world.endpoint("vm", { vnics: [{ ipv4: "10.250.0.2/24", mtu: 1400 }] });
    const tap = new FramePort("tap", (f, o, l) => dpif.receive(1, f, o, l));
    dpif.addPort({ name: "tap", type: "netdev", portNo: 1, port: tap });
    world.link(vm.vnics[0], tap);
    dpif.addPort({
      name: "vxlan0",
      type: "vxlan",
      portNo: 2,
      options: { remote_ip: "127.0.0.1", key: String(VNI), dst_port: String(KPORT) },
    });
    for (const [k, a] of [
      ["in_port(1),eth()", "2"],
      ["in_port(2),eth()", "1"],
    ]) {
      const { key, mask } = parseOdpKey(k);
      dpif.flowPut(key, mask, a);
    }
    const underlay = await UdpUnderlay.open(stack, {
      localIp: "127.0.0.1",
      listen: [{ ip: "127.255.255.255", port: KPORT + 1, deliverAs: KPORT }],
      onReceive: () => driver.wake(),
    });
    stack.setUnderlay(underlay);
    driver.start();
    try {
      const fromKernel = await run([
        "ip",
        "netns",
        "exec",
        NS,
        "/usr/bin/python3",
        "-c",
        PING_PY,
        "10.250.0.2",
      ]);
      expect(fromKernel.out).toMatch(/3 packets transmitted, 3 received/);
      const session = vm.ping("10.250.0.1", { count: 3, intervalMs: 200, timeoutMs: 2000 });
      for (let i = 0; i < 400 && !session.done; i++) await new Promise((r) => setTimeout(r, 10));
      expect(session.result.received).toBe(3);
      expect(stack.stats().drops.no_port).toBe(0);
      expect(underlay.rxNotTunnel).toBe(0);
    } finally {
      driver.stop();
      await underlay.close();
    }
  }, 20_000);
});
