import { afterEach, describe, expect, it } from "vitest";
import { Dpif, parseOdpKey } from "../../datapath/index.js";
import { TunnelStack, UdpUnderlay } from "./_overlay.js";

const clock = { nowNs: () => 0 };
const BASE = 21000 + (process.pid % 2000) * 4;
const open: UdpUnderlay[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((u) => u.close()));
});

function host(type: string, peerIp: string, port: number) {
  const dpif = new Dpif({ clock });
  const stack = new TunnelStack();
  stack.attach(dpif);
  const vm: Uint8Array[] = [];
  dpif.addPort({
    name: "vm",
    type: "netdev",
    portNo: 1,
    port: { transmit: (f, o, l) => vm.push(f.slice(o, o + l)) },
  });
  dpif.addPort({
    name: "t",
    type,
    portNo: 2,
    options: { remote_ip: peerIp, key: "77", dst_port: String(port) },
  });
  for (const [k, a] of [
    ["in_port(1),eth()", "2"],
    ["in_port(2),eth()", "1"],
  ]) {
    const { key, mask } = parseOdpKey(k);
    dpif.flowPut(key, mask, a);
  }
  return { dpif, stack, vm };
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe("tunnels over real UDP sockets", () => {
  for (const [type, off] of [
    ["vxlan", 0],
    ["geneve", 2],
  ] as const) {
    it(`carries a frame between two ${type} stacks on 127.0.0.1 and 127.0.0.2, both ways`, async () => {
      // Two processes would do the same: one loopback address each, the same dst_port.
      const port = BASE + off;
      const a = host(type, "127.0.0.2", port);
      const b = host(type, "127.0.0.1", port);
      const ua = await UdpUnderlay.open(a.stack, { localIp: "127.0.0.1", listen: [{ port }] });
      open.push(ua);
      a.stack.setUnderlay(ua);
      const ub = await UdpUnderlay.open(b.stack, { localIp: "127.0.0.2", listen: [{ port }] });
      open.push(ub);
      b.stack.setUnderlay(ub);
      const frame = new Uint8Array(80).map((_, i) => i);
      frame[12] = 0x88;
      frame[13] = 0xb5;
      a.dpif.receive(1, frame, 0, frame.length);
      await until(() => b.vm.length === 1);
      expect(b.vm).toHaveLength(1);
      expect([...b.vm[0]]).toEqual([...frame]);
      b.dpif.receive(1, frame, 0, 60);
      await until(() => a.vm.length === 1);
      expect([...a.vm[0]]).toEqual([...frame.subarray(0, 60)]);
      expect(ua.txPackets).toBe(1);
      expect(ub.rxPackets).toBe(1);
    });
  }

  it("refuses to bind a port that is in use, with an OverlayError naming it", async () => {
    const s = new TunnelStack();
    const u = await UdpUnderlay.open(s, { listen: [{ port: BASE + 3 }] });
    open.push(u);
    await expect(UdpUnderlay.open(s, { listen: [{ port: BASE + 3 }] })).rejects.toThrow(
      new RegExp(`cannot bind 127.0.0.1:${BASE + 3}`),
    );
  });
});
