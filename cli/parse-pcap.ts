/**
 * `ovsim parse-pcap FILE...`: prints the flow of every packet in each capture, one
 * line per packet, exactly as `ovs-ofctl parse-pcap` does (in_port=ANY, no other
 * metadata, flow_format() syntax).
 *
 * Promises
 * - Streams: one record at a time from the file, output written in bounded chunks
 *   with back-pressure; memory does not grow with the capture.
 * - A file that cannot be opened or is not a capture prints `ovsim: <file>: <why>` on
 *   stderr, sets a non-zero exit code and moves on to the next file, as ovs-ofctl
 *   does; the packets read before a corrupt record are still printed.
 *
 * It does not filter, decode payloads or print timestamps.
 */
import { once } from "node:events";
import {
  flowExtract,
  formatMatch,
  newFlowKey,
  newPacketLayers,
  OFPP_NONE,
  PcapFormatError,
  readPcap,
  W_IN_PORT,
} from "../packet/index.js";

/** Output is flushed in chunks of about this many characters. */
const FLUSH_CHARS = 64 * 1024;

/**
 * Writes `text`, waiting for the stream to drain when it asks us to. Resolves early if
 * the stream fails (e.g. EPIPE when piped into `head`); the caller checks `broken`.
 */
async function flush(out: NodeJS.WritableStream, text: string, state: OutputState): Promise<void> {
  if (state.broken || out.write(text)) return;
  const ac = new AbortController();
  await Promise.race([
    once(out, "drain", { signal: ac.signal }).catch(() => undefined),
    once(out, "error", { signal: ac.signal }).catch(() => undefined),
  ]);
  ac.abort();
}

interface OutputState {
  /** Set when the output stream has failed; nothing more is written or read. */
  broken?: Error;
}

function describe(file: string, err: unknown): string {
  if (err instanceof PcapFormatError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === "string" && typeof e.syscall === "string") {
    return `${file}: ${e.syscall} failed (${e.code}: ${e.message.split(",")[0].replace(/^[A-Z]+: /, "")})`;
  }
  return `${file}: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Prints the flows of `files` to `out`. Failures go to stderr as `ovsim: ...` and
 * set `process.exitCode` to 1; the remaining files are still processed.
 */
export async function parsePcapCommand(files: string[], out: NodeJS.WritableStream): Promise<void> {
  const key = newFlowKey();
  const layers = newPacketLayers();
  const state: OutputState = {};
  const onError = (err: Error) => {
    state.broken = err;
  };
  out.on("error", onError);
  try {
    for (const file of files) {
      let pending = "";
      try {
        for await (const pkt of readPcap(file)) {
          // ovs-ofctl extracts with in_port OFPP_ANY and all other metadata zero.
          key.fill(0);
          key[W_IN_PORT] = OFPP_NONE;
          flowExtract(pkt.data, 0, pkt.data.length, key, layers);
          pending += `${formatMatch(key, undefined)}\n`;
          if (pending.length >= FLUSH_CHARS) {
            await flush(out, pending, state);
            pending = "";
            if (state.broken) break;
          }
        }
      } catch (err) {
        await flush(out, pending, state);
        pending = "";
        process.stderr.write(`ovsim: ${describe(file, err)}\n`);
        process.exitCode = 1;
      }
      if (pending) await flush(out, pending, state);
      if (state.broken) break;
    }
  } finally {
    out.off("error", onError);
  }
  // A reader that went away (`ovsim parse-pcap x | head`) is the reader's choice, not
  // a failure; anything else is.
  const code = (state.broken as NodeJS.ErrnoException | undefined)?.code;
  if (state.broken && code !== "EPIPE") throw state.broken;
}
