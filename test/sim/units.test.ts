import { describe, expect, it } from "vitest";
import {
  formatDurationNs,
  parseBytes,
  parseDurationNs,
  parseProbability,
  parseRateBps,
} from "../../sim/units.js";

describe("units", () => {
  it("reads durations as Mininet users write them, in nanoseconds", () => {
    expect(parseDurationNs("50us")).toBe(50_000);
    expect(parseDurationNs("10ms")).toBe(10_000_000);
    expect(parseDurationNs("1.5s")).toBe(1_500_000_000);
    expect(parseDurationNs("100ns")).toBe(100);
    expect(parseDurationNs("7")).toBe(7);
    expect(parseDurationNs(1234)).toBe(1234);
    expect(parseDurationNs("-5us")).toBe(-5000);
  });

  it("reads rates with decimal prefixes where bps and bit both mean bits", () => {
    expect(parseRateBps("1Gbps")).toBe(1e9);
    expect(parseRateBps("10Mbit")).toBe(1e7);
    expect(parseRateBps("100kbit")).toBe(1e5);
    expect(parseRateBps("10mbit")).toBe(1e7);
    expect(parseRateBps("1MBps")).toBe(8e6);
    expect(parseRateBps(5e6)).toBe(5e6);
  });

  it("reads sizes with decimal and binary prefixes", () => {
    expect(parseBytes("64KB")).toBe(64_000);
    expect(parseBytes("64KiB")).toBe(65_536);
    expect(parseBytes("1500")).toBe(1500);
    expect(parseBytes("1500B")).toBe(1500);
  });

  it("reads probabilities as fractions or percentages", () => {
    expect(parseProbability("1%")).toBeCloseTo(0.01);
    expect(parseProbability("0.25")).toBe(0.25);
    expect(parseProbability(0.5)).toBe(0.5);
  });

  it("refuses strings it cannot read, with a coded error quoting them and an example", () => {
    expect(() => parseDurationNs("10 parsecs")).toThrow(/cannot read "10 parsecs" as a duration/);
    expect(() => parseRateBps("fast")).toThrow(
      expect.objectContaining({ code: "ERR_SIM_INVALID_UNIT" }),
    );
    expect(() => parseBytes("lots")).toThrow(/size/);
    expect(() => parseProbability("half")).toThrow(/probability/);
  });

  it("formats durations for messages", () => {
    expect(formatDurationNs(1_500_000)).toBe("1.5ms");
    expect(formatDurationNs(50_000)).toBe("50us");
    expect(formatDurationNs(2e9)).toBe("2s");
    expect(formatDurationNs(12)).toBe("12ns");
  });
});
