/**
 * packet/ — the wire formats ovsim moves, and OVS-exact flow extraction.
 *
 * Glossary
 * - "frame": a `Uint8Array` holding one Ethernet frame, addressed as (buffer, offset,
 *   length); decoders read it in place and never copy.
 * - "flow key": a `Uint32Array` of FLOW_WORDS words holding every field OVS's
 *   `struct flow` has (flow-key.ts); a "mask" has the same layout.
 * - "codec": for each header, decode (a zero-copy view), encode into a caller's buffer
 *   (returns the new offset) and encodingLength, after dns-packet's trio.
 *
 * Invariants
 * - Nothing on the decode or extraction path allocates or throws on bad input:
 *   extraction keeps what it could read and zeroes the rest, as OVS's flow_extract().
 * - Encoders compute checksums; incremental updates follow RFC 1624.
 */

export * from "./address.js";
export * from "./arp.js";
export * from "./checksum.js";
export * from "./errors.js";
export * from "./ethernet.js";
export * from "./ethertype.js";
export * from "./flow-extract.js";
export * from "./flow-fields.js";
export * from "./flow-format.js";
export * from "./flow-key.js";
export * from "./frame-builder.js";
export * from "./icmp.js";
export * from "./icmpv6.js";
export * from "./ipproto.js";
export * from "./ipv4.js";
export * from "./ipv6.js";
export * from "./llc.js";
export * from "./mpls.js";
export * from "./nsh.js";
export * from "./pcap.js";
export * from "./sctp.js";
export * from "./tcp.js";
export * from "./udp.js";
export * from "./vlan.js";
