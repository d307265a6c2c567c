/** Small conversions and a fuzz driver shared by the packet/ tests; not a test file. */
import fc from "fast-check";
import { expect } from "vitest";
import { PacketError } from "../../packet/errors.js";

export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const unhex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
export const mac = (s: string) => Uint8Array.from(s.split(":").map((h) => Number.parseInt(h, 16)));
export const ip4 = (s: string) => s.split(".").reduce((a, b) => a * 256 + Number(b), 0);
export function ip6(s: string): Uint8Array {
  const [head, tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const words = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    const v = Number.parseInt(w, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** A re-pointable view as every codec has one. */
interface AnyView {
  wrap(buf: Uint8Array, off?: number, end?: number): unknown;
  validate(): string | undefined;
}

/**
 * Random bytes into a decoder and a view: the view's validate() and every getter
 * never throw, and the slow-path decoder either returns or throws a PacketError.
 */
export function fuzzDecoder(
  decode: (buf: Uint8Array, off: number, end: number) => unknown,
  view: AnyView,
  extra?: (view: AnyView) => void,
): void {
  const proto = Object.getPrototypeOf(view) as object;
  const getters = Object.entries(Object.getOwnPropertyDescriptors(proto))
    .filter(([, d]) => d.get)
    .map(([k]) => k);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(8), (bytes, pad) => {
      const buf = new Uint8Array(pad + bytes.length);
      buf.set(bytes, pad);
      view.wrap(buf, pad, buf.length);
      const code = view.validate();
      expect(code === undefined || code.startsWith("PKT_ERR_")).toBe(true);
      for (const g of getters) (view as unknown as Record<string, unknown>)[g];
      extra?.(view);
      try {
        decode(buf, pad, buf.length);
      } catch (e) {
        expect(e).toBeInstanceOf(PacketError);
      }
    }),
    { numRuns: 300 },
  );
}
