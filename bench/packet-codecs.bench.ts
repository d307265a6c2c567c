/**
 * Benchmarks of packet/'s per-packet codec work: the Internet checksum, zero-copy
 * header views, the IPv6 extension-header walk, RFC 1624 incremental updates as the
 * datapath's set-field actions use them, and (slow path, for scale) buildFrame.
 */

import {
  buildFrame,
  fixL4ForIpv4Addr,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_UDP,
  Ipv4View,
  Ipv6View,
  internetChecksum,
  UdpView,
} from "../packet/index.js";
import { type Figure, rate } from "./harness.js";

const BATCH = 32;
const MTU_FRAME = 1514;
const eth = { dst: Uint8Array.of(2, 0, 0, 0, 0, 2), src: Uint8Array.of(2, 0, 0, 0, 0, 1) };

function udp4Frames(): Uint8Array[] {
  return Array.from({ length: BATCH }, (_, i) =>
    buildFrame({
      eth,
      ipv4: { src: 0x0a000001 + i, dst: 0x0a000002 },
      udp: { srcPort: 1000 + i, dstPort: 4789 },
      payload: new Uint8Array(18),
    }),
  );
}

const checksumGbps: Figure = {
  name: "packet.checksum_gbps",
  unit: "Gbit/s",
  measure: () => {
    const buf = new Uint8Array(MTU_FRAME).map((_, i) => i * 31);
    let sink = 0;
    return rate(
      () => {
        sink ^= internetChecksum(buf, 14, MTU_FRAME - 14);
      },
      (MTU_FRAME - 14) * 8,
      1e9,
    ).finally(() => sink);
  },
};

const ipv4ViewMpps: Figure = {
  name: "packet.ipv4_udp_view_mpps",
  unit: "Mpps",
  measure: () => {
    const frames = udp4Frames();
    const ip = new Ipv4View();
    const udp = new UdpView();
    let sink = 0;
    return rate(
      () => {
        for (let i = 0; i < BATCH; i++) {
          const f = frames[i];
          if (ip.wrap(f, 14).validate() !== undefined) continue;
          const l4 = 14 + ip.headerLen;
          if (udp.wrap(f, l4, 14 + ip.totalLength).validate() !== undefined) continue;
          sink ^= ip.src ^ ip.dst ^ ip.protocol ^ udp.srcPort ^ udp.dstPort;
        }
      },
      BATCH,
      1e6,
    ).finally(() => sink);
  },
};

const ipv6WalkMpps: Figure = {
  name: "packet.ipv6_ext_walk_mpps",
  unit: "Mpps",
  measure: () => {
    const frames = Array.from({ length: BATCH }, (_, i) =>
      buildFrame({
        eth,
        ipv6: {
          src: new Uint8Array(16).fill(i),
          dst: new Uint8Array(16).fill(2),
          extHeaders: [
            { type: IPPROTO_HOPOPTS, options: Uint8Array.of(5, 2, 0, 0) },
            { type: IPPROTO_FRAGMENT, fragOffset: 0, m: false, id: i },
          ],
        },
        udp: { srcPort: 1, dstPort: 2 },
      }),
    );
    const v6 = new Ipv6View();
    let sink = 0;
    return rate(
      () => {
        for (let i = 0; i < BATCH; i++) {
          if (v6.wrap(frames[i], 14).validate() !== undefined) continue;
          if (v6.walkExtHeaders() !== undefined) continue;
          sink ^= v6.upperProto ^ v6.upperOff ^ v6.dstWord(3);
        }
      },
      BATCH,
      1e6,
    ).finally(() => sink);
  },
};

const setNwSrcMpps: Figure = {
  name: "packet.set_nw_src_incremental_mpps",
  unit: "Mpps",
  measure: () => {
    const frames = udp4Frames();
    const ip = new Ipv4View();
    let next = 0x0b000000;
    return rate(
      () => {
        for (let i = 0; i < BATCH; i++) {
          const f = frames[i];
          ip.wrap(f, 14);
          const old = ip.src;
          const now = (next = (next + 1) >>> 0);
          ip.src = now;
          fixL4ForIpv4Addr(f, 34, f.length - 34, IPPROTO_UDP, old, now);
        }
      },
      BATCH,
      1e6,
    );
  },
};

const buildFrameKfps: Figure = {
  name: "packet.build_udp_frame_kfps",
  unit: "kframes/s",
  measure: () => {
    const payload = new Uint8Array(64);
    let sink = 0;
    return rate(
      () => {
        sink ^= buildFrame({
          eth,
          ipv4: { src: 0x0a000001, dst: 0x0a000002 },
          udp: { srcPort: 1, dstPort: 2 },
          payload,
        })[40];
      },
      1,
      1e3,
    ).finally(() => sink);
  },
};

export const benchmarks: Figure[] = [
  checksumGbps,
  ipv4ViewMpps,
  ipv6WalkMpps,
  setNwSrcMpps,
  buildFrameKfps,
];
