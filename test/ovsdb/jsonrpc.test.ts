import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  classifyMessage,
  encodeError,
  encodeReply,
  encodeRequest,
  type Json,
  JsonStreamParser,
} from "../../ovsdb/jsonrpc.js";
import { JsonRpcError } from "../../ovsdb/server-errors.js";

const enc = new TextEncoder();

function feedAll(parser: JsonStreamParser, chunks: Uint8Array[]): Json[] {
  const out: Json[] = [];
  for (const c of chunks) out.push(...parser.feed(c));
  return out;
}

const jsonValue = fc.jsonValue() as fc.Arbitrary<Json>;
const topLevel = fc.oneof(
  fc.dictionary(fc.string(), jsonValue) as fc.Arbitrary<Json>,
  fc.array(jsonValue) as fc.Arbitrary<Json>,
);

describe("JsonStreamParser", () => {
  it("splits concatenated messages with no delimiter between them", () => {
    const p = new JsonStreamParser();
    const text = '{"id":1,"method":"echo","params":[]}[1,2]{"a":"}{"}';
    expect(p.feed(enc.encode(text))).toEqual([
      { id: 1, method: "echo", params: [] },
      [1, 2],
      { a: "}{" },
    ]);
    expect(p.idle).toBe(true);
  });

  it("returns the same values however the byte stream is cut into chunks", () => {
    fc.assert(
      fc.property(
        fc.array(topLevel, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (values, cuts) => {
          const bytes = enc.encode(values.map((v) => JSON.stringify(v)).join(" \n"));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const chunks: Uint8Array[] = [];
          let prev = 0;
          for (const pt of points) {
            chunks.push(bytes.subarray(prev, pt));
            prev = pt;
          }
          chunks.push(bytes.subarray(prev));
          const p = new JsonStreamParser();
          expect(feedAll(p, chunks)).toEqual(JSON.parse(JSON.stringify(values)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("reassembles a multi-byte UTF-8 character split across two chunks", () => {
    const bytes = enc.encode('["héllo ✓"]');
    const p = new JsonStreamParser();
    expect(p.feed(bytes.subarray(0, 4))).toEqual([]);
    expect(p.feed(bytes.subarray(4, 10))).toEqual([]);
    expect(p.feed(bytes.subarray(10))).toEqual([["héllo ✓"]]);
  });

  it("handles escaped quotes and backslashes inside strings", () => {
    const p = new JsonStreamParser();
    expect(p.feed(enc.encode('["a\\"]b\\\\", "}"]'))).toEqual([['a"]b\\', "}"]]);
  });

  it("rejects a top-level value that is not an object or array", () => {
    const p = new JsonStreamParser();
    expect(p.feed(enc.encode("42"))).toEqual([]);
    expect(p.error).toBeInstanceOf(JsonRpcError);
  });

  it("delivers the messages before malformed JSON, then stays failed", () => {
    const p = new JsonStreamParser();
    expect(p.feed(enc.encode('[1]{"id":1,,}'))).toEqual([[1]]);
    expect(p.error?.message).toMatch(/Cannot parse JSON-RPC input/);
    expect(p.feed(enc.encode("[]"))).toEqual([]);
  });

  it("rejects nesting deeper than the limit with a depth error", () => {
    const p = new JsonStreamParser({ maxDepth: 50 });
    p.feed(enc.encode("[".repeat(51)));
    expect(p.error?.code).toBe("OVSDB_JSON_TOO_DEEP");
    expect(
      new JsonStreamParser({ maxDepth: 50 }).feed(enc.encode(`${"[".repeat(50)}${"]".repeat(50)}`)),
    ).toHaveLength(1);
  });

  it("rejects a message longer than the size limit even when it arrives in pieces", () => {
    const p = new JsonStreamParser({ maxMessageBytes: 1000 });
    p.feed(enc.encode('["'));
    for (let i = 0; i < 20; i++) p.feed(enc.encode("x".repeat(100)));
    expect(p.error?.code).toBe("OVSDB_JSON_TOO_LARGE");
  });

  it("accepts a 10 MB string streamed in 64 KiB chunks", () => {
    const big = "y".repeat(10 * 1024 * 1024);
    const bytes = enc.encode(JSON.stringify({ id: 1, method: "echo", params: [big] }));
    const p = new JsonStreamParser();
    const out: Json[] = [];
    for (let off = 0; off < bytes.length; off += 65536)
      out.push(...p.feed(bytes.subarray(off, off + 65536)));
    expect(out).toHaveLength(1);
    expect(((out[0] as { params: string[] }).params[0] ?? "").length).toBe(big.length);
  });
});

describe("JsonStreamParser fuzzing", () => {
  it("never throws on arbitrary bytes and parses the same whether fed whole or byte by byte", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const whole = new JsonStreamParser();
        const a = whole.feed(bytes);
        const split = new JsonStreamParser();
        const b: Json[] = [];
        for (let i = 0; i < bytes.length; i++) b.push(...split.feed(bytes.subarray(i, i + 1)));
        expect(b).toEqual(a);
        expect(split.error === null).toBe(whole.error === null);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on JSON-like garbage built from brackets, quotes and escapes", () => {
    const piece = fc.constantFrom("{", "}", "[", "]", '"', "\\", ",", ":", "1", "a", " ", "null");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
        const p = new JsonStreamParser({ maxDepth: 10 });
        const out = p.feed(enc.encode(pieces.join("")));
        for (const v of out) expect(typeof v).toBe("object");
      }),
      { numRuns: 300 },
    );
  });
});

describe("classifyMessage", () => {
  it("recognises requests, notifications, replies and error replies", () => {
    expect(classifyMessage({ id: 1, method: "list_dbs", params: [] }).kind).toBe("request");
    expect(classifyMessage({ id: null, method: "update", params: [null, {}] }).kind).toBe("notify");
    expect(classifyMessage({ id: 1, result: [], error: null }).kind).toBe("reply");
    expect(classifyMessage({ id: 1, error: "unknown method" }).kind).toBe("error");
  });

  it("rejects non-objects, non-string methods, non-array params and empty objects", () => {
    for (const bad of [
      [1],
      { method: 3, params: [] },
      { id: 1, method: "x", params: {} },
      {},
    ] as Json[]) {
      expect(() => classifyMessage(bad)).toThrow(/Invalid JSON-RPC message/);
    }
  });

  it("encodes replies and errors in OVS's shapes", () => {
    expect(encodeReply(1, {})).toBe('{"id":1,"result":{},"error":null}');
    expect(encodeError(1, "unknown method")).toBe('{"id":1,"error":"unknown method"}');
    expect(encodeRequest("echo", "echo", [])).toBe('{"id":"echo","method":"echo","params":[]}');
  });
});
