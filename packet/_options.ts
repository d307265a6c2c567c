/**
 * The option-list format IPv4 (RFC 791 §3.1) and TCP (RFC 9293 §3.1) share: code 0
 * (end of list) and code 1 (no-operation) are one octet; every other option is code,
 * length (≥ 2, counting itself), data. Private to packet/: ipv4.ts and tcp.ts wrap
 * these with their own field names. Slow path: it allocates.
 */
import { copyBytes } from "./_bytes.js";
import { checkRange, PacketErrorCode, PacketMalformedError } from "./errors.js";

const OPT_EOL = 0;
const OPT_NOP = 1;

export interface RawOption {
  code: number;
  data?: Uint8Array;
}

/**
 * Splits option bytes into options; EOL ends the list. Throws PacketMalformedError
 * (naming `header`) on a missing length octet or a length < 2 or past the options.
 */
export function decodeOptionList(header: string, opts: Uint8Array): RawOption[] {
  const out: RawOption[] = [];
  let p = 0;
  while (p < opts.length) {
    const code = opts[p]!;
    if (code === OPT_EOL) {
      out.push({ code });
      break;
    }
    if (code === OPT_NOP) {
      out.push({ code });
      p++;
      continue;
    }
    if (p + 2 > opts.length)
      throw new PacketMalformedError(
        PacketErrorCode.BAD_OPTION,
        header,
        `option ${code} at ${p} has no length octet`,
      );
    const len = opts[p + 1]!;
    if (len < 2 || p + len > opts.length)
      throw new PacketMalformedError(
        PacketErrorCode.BAD_OPTION,
        header,
        `option ${code} at ${p} has length ${len}, which is < 2 or runs past the ${opts.length}-byte options`,
      );
    out.push({ code, data: copyBytes(opts, p + 2, len - 2) });
    p += len;
  }
  return out;
}

/** Serialises options, unpadded; throws if an option's length exceeds one octet. */
export function encodeOptionList(header: string, options: readonly RawOption[]): Uint8Array {
  let len = 0;
  for (const o of options)
    len += o.code === OPT_EOL || o.code === OPT_NOP ? 1 : 2 + (o.data?.length ?? 0);
  const out = new Uint8Array(len);
  let p = 0;
  for (const o of options) {
    out[p++] = o.code;
    if (o.code === OPT_EOL || o.code === OPT_NOP) continue;
    const data = o.data ?? new Uint8Array(0);
    checkRange(header, "option length", 2 + data.length, 0xff);
    out[p++] = 2 + data.length;
    out.set(data, p);
    p += data.length;
  }
  return out;
}
