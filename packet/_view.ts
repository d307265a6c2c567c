/**
 * The base of every header view: a window `[off, end)` over a caller's buffer that
 * can be re-pointed with `wrap` so one view object serves every packet (the hot path
 * allocates nothing). Private to packet/; each codec's view adds its getters.
 */
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
