/**
 * The bytes of a `tnl_push(...,header(size=N,type=T,eth(...),ipv4(...),udp(...),
 * vxlan(...)),...)` action: the outer headers OVS's tnl_push prepends (struct
 * ovs_action_push_tnl.header, built by lib/netdev-native-tnl.c and printed by
 * lib/odp-util.c format_odp_tnl_push_header).
 *
 * Promises: the result is exactly `size` bytes, fields as written; the fields that
 * depend on the inner packet (IPv4 total length and header checksum, IPv6 payload
 * length, UDP length and checksum) are left as written (normally 0) for the overlay's
 * tnl_push hook to fill, as OVS fills them at push time.
 *
 * Supported: Ethernet, then IPv4 or IPv6, then UDP with VXLAN or Geneve (with its
 * option TLVs), or GRE (flags, proto, csum, key, seq). Anything else is rejected, naming the part.
 */
import { parseIpv4, parseIpv6, parseMac } from "../packet/index.js";
import { DATAPATH_ERROR_CODES, OdpParseError } from "./errors.js";
import { parseUint } from "./odp-lexer.js";

/** OVS_VPORT_TYPE_* values that appear as `type=` in tnl_push headers. */
export const OVS_VPORT_TYPE_GRE = 3;
export const OVS_VPORT_TYPE_VXLAN = 4;
export const OVS_VPORT_TYPE_GENEVE = 5;

function fields(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of body.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** Builds the header bytes from the text inside `header(...)` after `size=..,type=..,`. */
export function buildTnlPushHeader(headerText: string, size: number, type: number): Uint8Array {
  const fail = (message: string): never => {
    throw new OdpParseError(
      DATAPATH_ERROR_CODES.BAD_ACTION,
      `tnl_push header: ${message}`,
      headerText,
      0,
    );
  };
  const parts = [...headerText.matchAll(/([a-z0-9]+)\(((?:[^()]|\([^()]*\))*)\)/g)].map((m) => ({
    name: m[1],
    f: fields(m[2]),
    raw: m[2],
  }));
  const out = new Uint8Array(size);
  let at = 0;
  const put = (n: number, v: number) => {
    if (at + n > size) fail(`the headers take more than size=${size} bytes`);
    for (let i = n - 1; i >= 0; i--) out[at + (n - 1 - i)] = Math.floor(v / 2 ** (8 * i)) & 0xff;
    at += n;
  };
  const num = (f: Map<string, string>, name: string, max: number, dflt?: number): number => {
    const t = f.get(name);
    if (t === undefined) {
      if (dflt !== undefined) return dflt;
      return fail(`missing ${name}=`);
    }
    const v = parseUint(t, max);
    return v === null ? fail(`bad ${name}=${t}`) : v;
  };
  const mac = (f: Map<string, string>, name: string) => {
    const m = parseMac(f.get(name) ?? "");
    if (!m) fail(`bad ${name}=`);
    put(2, m![0]);
    put(4, m![1]);
  };
  const [eth, l3, l4, tnl] = parts;
  if (eth?.name !== "eth") fail("must start with eth(...)");
  mac(eth.f, "dst");
  mac(eth.f, "src");
  put(2, num(eth.f, "dl_type", 0xffff));
  if (l3?.name === "ipv4") {
    const src = parseIpv4(l3.f.get("src") ?? "");
    const dst = parseIpv4(l3.f.get("dst") ?? "");
    if (src === undefined || dst === undefined) fail("ipv4 needs src= and dst=");
    put(1, 0x45);
    put(1, num(l3.f, "tos", 0xff, 0));
    put(2, 0);
    put(2, 0);
    put(2, num(l3.f, "frag", 0xffff, 0));
    put(1, num(l3.f, "ttl", 0xff, 64));
    put(1, num(l3.f, "proto", 0xff));
    put(2, 0);
    put(4, src!);
    put(4, dst!);
  } else if (l3?.name === "ipv6") {
    const addrs = new Uint32Array(8);
    if (!parseIpv6(l3.f.get("src") ?? "", addrs, 0) || !parseIpv6(l3.f.get("dst") ?? "", addrs, 4))
      fail("ipv6 needs src= and dst=");
    put(4, ((6 << 28) | (num(l3.f, "label", 0xfffff, 0) & 0xfffff)) >>> 0);
    put(2, 0);
    put(1, num(l3.f, "proto", 0xff));
    put(1, num(l3.f, "hlimit", 0xff, 64));
    for (let i = 0; i < 8; i++) put(4, addrs[i]);
  } else {
    fail("expected ipv4(...) or ipv6(...) after eth(...)");
  }
  if (type === OVS_VPORT_TYPE_VXLAN || type === OVS_VPORT_TYPE_GENEVE) {
    if (l4?.name !== "udp") fail("a UDP tunnel needs udp(...)");
    put(2, num(l4.f, "src", 0xffff, 0));
    put(2, num(l4.f, "dst", 0xffff));
    put(2, 0);
    put(2, num(l4.f, "csum", 0xffff, 0));
    if (type === OVS_VPORT_TYPE_VXLAN) {
      if (tnl?.name !== "vxlan") fail("type=4 needs vxlan(...)");
      put(4, num(tnl.f, "flags", 0xffffffff));
      put(4, (num(tnl.f, "vni", 0xffffff) << 8) >>> 0);
    } else {
      if (tnl?.name !== "geneve") fail("type=5 needs geneve(...)");
      // Options as lib/odp-util.c format_geneve_opts prints them:
      // options({class=0x102,type=0x80,len=4,0xdeadbeef},...), len in bytes.
      const opts = /,options\((.*)\)$/.exec(tnl.raw);
      const head = opts ? tnl.raw.slice(0, opts.index) : tnl.raw;
      const tlvs: { cls: number; type: number; data: string }[] = [];
      if (opts) {
        const re = /\{class=(0x[0-9a-f]+),type=(0x[0-9a-f]+),len=(\d+)(?:,0x([0-9a-f]*))?\}(,|$)/gy;
        for (let m = re.exec(opts[1]); m; m = re.exec(opts[1])) {
          const len = Number(m[3]);
          const data = m[4] ?? "";
          if (len % 4 !== 0 || len > 124 || data.length !== len * 2)
            fail(
              `Geneve option len=${len} needs a multiple of 4 up to 124 and that many data bytes`,
            );
          tlvs.push({ cls: parseUint(m[1], 0xffff)!, type: parseUint(m[2], 0xff)!, data });
          if (re.lastIndex === opts[1].length) break;
        }
        if (re.lastIndex !== opts[1].length)
          fail("Geneve options must read {class=0x..,type=0x..,len=N,0x<data>},...");
      }
      const optLen = tlvs.reduce((n, t) => n + 4 + t.data.length / 2, 0);
      if (optLen > 252) fail(`Geneve options take ${optLen} bytes, at most 252`);
      const flags = (/\boam\b/.test(head) ? 0x80 : 0) | (/\bcrit\b/.test(head) ? 0x40 : 0);
      put(1, optLen / 4);
      put(1, flags);
      put(2, 0x6558);
      put(4, (num(fields(head), "vni", 0xffffff) << 8) >>> 0);
      for (const t of tlvs) {
        put(2, t.cls);
        put(1, t.type);
        put(1, t.data.length / 8);
        for (let i = 0; i < t.data.length; i += 2)
          put(1, Number.parseInt(t.data.slice(i, i + 2), 16));
      }
    }
  } else if (type === OVS_VPORT_TYPE_GRE) {
    const gre = l4;
    if (gre?.name !== "gre") fail("type=3 needs gre(...)");
    // As format_odp_tnl_push_header prints it: the optional words follow in wire order
    // (RFC 2890: checksum+reserved1, key, sequence number).
    const m =
      /^\(flags=(0x[0-9a-f]+),proto=(0x[0-9a-f]+)\)(?:,csum=(0x[0-9a-f]+))?(?:,key=(0x[0-9a-f]+))?(?:,seq=(0x[0-9a-f]+))?$/.exec(
        gre.raw,
      );
    if (!m) fail("gre needs (flags=..,proto=..)[,csum=..][,key=..][,seq=..]");
    put(2, parseUint(m![1], 0xffff)!);
    put(2, parseUint(m![2], 0xffff)!);
    if (m![3] !== undefined) {
      put(2, parseUint(m![3], 0xffff)!);
      put(2, 0);
    }
    if (m![4] !== undefined) put(4, parseUint(m![4])!);
    if (m![5] !== undefined) put(4, parseUint(m![5])!);
  } else {
    fail(`tunnel type ${type} is not supported (use 3 GRE, 4 VXLAN or 5 Geneve)`);
  }
  if (at !== size) fail(`size=${size} but the headers take ${at} bytes`);
  return out;
}
