/**
 * The base of every header view: a window `[off, end)` over a caller's buffer that
 * can be re-pointed with `wrap` so one view object serves every packet (the hot path
 * allocates nothing). Private to packet/; each codec's view adds its getters.
 */
import { rd16, wr16 } from "./_bytes.js";
import { fixL4ForField16 } from "./checksum.js";

export abstract class HeaderView {
  buf: Uint8Array = new Uint8Array(0);
  off = 0;
  end = 0;

  /** Points the view at `buf[off, end)`; returns the view for chaining. */
  wrap(buf: Uint8Array, off = 0, end: number = buf.length): this {
    this.buf = buf;
    this.off = off;
    this.end = end;
    return this;
  }
}

/**
 * A transport header that starts with 16-bit source and destination ports (UDP,
 * TCP). Setting a port fixes the header's checksum incrementally (RFC 1624) for
 * the subclass's IP protocol.
 */
export abstract class L4PortsView extends HeaderView {
  protected abstract readonly ipProto: number;

  get srcPort(): number {
    return rd16(this.buf, this.off);
  }
  set srcPort(v: number) {
    const old = this.srcPort;
    wr16(this.buf, this.off, v);
    fixL4ForField16(this.buf, this.off, this.end - this.off, this.ipProto, old, v & 0xffff);
  }
  get dstPort(): number {
    return rd16(this.buf, this.off + 2);
  }
  set dstPort(v: number) {
    const old = this.dstPort;
    wr16(this.buf, this.off + 2, v);
    fixL4ForField16(this.buf, this.off, this.end - this.off, this.ipProto, old, v & 0xffff);
  }
}
