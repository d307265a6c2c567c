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
export * from "./flow-key.js";
export * from "./pcap.js";
