/**
 * Quantities as topology authors write them: "50us", "10ms", "1Gbps", "10Mbit",
 * "64KB", "1%". Each parser also takes a plain number in the base unit (nanoseconds,
 * bits per second, bytes, probability) and returns the base unit.
 *
 * Promises: decimal SI prefixes (k = 1e3, M = 1e6, G = 1e9, T = 1e12) for rates and
 * sizes, binary ones only when spelled Ki/Mi/Gi; "bps", "bit" and "b/s" all mean bits
 * per second (Mininet's and iperf's reading — unlike tc, where "bps" means bytes); a
 * byte rate is spelled "Bps" or "B/s" (upper-case B). Durations are rounded to whole
 * nanoseconds. Signs are kept, so a caller can refuse "-5us" with a message that
 * quotes it. It does not validate ranges: callers do (they know the object's name).
 */
import { InvalidUnitError } from "./errors.js";

const NUMBER = "([+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)";

const DURATION_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  sec: 1e9,
  min: 60e9,
};
const DURATION_RE = new RegExp(`^${NUMBER}\\s*(ns|us|µs|ms|s|sec|min)?$`);

/** "10ms" → 10_000_000; a number is already nanoseconds. */
export function parseDurationNs(v: number | string): number {
  if (typeof v === "number") return Math.round(v);
  const m = DURATION_RE.exec(v.trim());
  if (!m) throw new InvalidUnitError("duration", v, '"50us", "10ms", "1.5s" or a number of ns');
  return Math.round(Number(m[1]) * DURATION_NS[m[2] ?? "ns"]!);
}

const PREFIX: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  m: 1e6,
  M: 1e6,
  g: 1e9,
  G: 1e9,
  t: 1e12,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};
const RATE_RE = new RegExp(
  `^${NUMBER}\\s*(Ki|Mi|Gi|Ti|[kKmMgGtT])?(bps|bit/s|bits/s|bit|b/s|Bps|B/s)?$`,
);

/** "1Gbps" → 1e9, "10Mbit" → 1e7, "1MBps" → 8e6; a number is already bits/s. */
export function parseRateBps(v: number | string): number {
  if (typeof v === "number") return v;
  const m = RATE_RE.exec(v.trim());
  // A bare "10M" is accepted (Mininet's bw= is a number of Mbit/s, people drop the unit).
  if (!m)
    throw new InvalidUnitError("rate", v, '"1Gbps", "10Mbit", "100kbit" or a number of bit/s');
  const perByte = m[3] === "Bps" || m[3] === "B/s" ? 8 : 1;
  return Number(m[1]) * PREFIX[m[2] ?? ""]! * perByte;
}

const SIZE_RE = new RegExp(`^${NUMBER}\\s*(Ki|Mi|Gi|Ti|[kKmMgGtT])?(B|bytes?)?$`);

/** "64KB" → 64000, "64KiB" → 65536, "1500" → 1500. */
export function parseBytes(v: number | string): number {
  if (typeof v === "number") return v;
  const m = SIZE_RE.exec(v.trim());
  if (!m) throw new InvalidUnitError("size", v, '"1500B", "64KB", "1MiB" or a number of bytes');
  return Math.round(Number(m[1]) * PREFIX[m[2] ?? ""]!);
}

const PROB_RE = new RegExp(`^${NUMBER}\\s*(%)?$`);

/** "1%" → 0.01, "0.25" → 0.25; a number is already a probability. */
export function parseProbability(v: number | string): number {
  if (typeof v === "number") return v;
  const m = PROB_RE.exec(v.trim());
  if (!m) throw new InvalidUnitError("probability", v, '"1%", "0.01" or a number in [0, 1]');
  return m[2] ? Number(m[1]) / 100 : Number(m[1]);
}

/** 1_500_000 → "1.5ms": for messages and reports, not for parsing back exactly. */
export function formatDurationNs(ns: number): string {
  const a = Math.abs(ns);
  if (a >= 1e9) return `${trim(ns / 1e9)}s`;
  if (a >= 1e6) return `${trim(ns / 1e6)}ms`;
  if (a >= 1e3) return `${trim(ns / 1e3)}us`;
  return `${ns}ns`;
}

/** 1e9 → "1Gbps". */
export function formatRateBps(bps: number): string {
  if (bps >= 1e9) return `${trim(bps / 1e9)}Gbps`;
  if (bps >= 1e6) return `${trim(bps / 1e6)}Mbps`;
  if (bps >= 1e3) return `${trim(bps / 1e3)}kbps`;
  return `${trim(bps)}bps`;
}

function trim(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}
