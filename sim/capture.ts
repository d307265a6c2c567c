/**
 * Packet capture of one port of a link, written as a pcap file (Ethernet, nanosecond
 * timestamps in virtual time) that Wireshark and tshark open.
 *
 * What is captured is what `tcpdump -i <port>` would see: frames the port sends, at
 * the moment it offers them (even those the link then drops, as tcpdump sees frames
 * before the qdisc), and frames delivered to it, at arrival. Timestamps are virtual
 * nanoseconds plus `epochNs` (default 0, so a capture starts near 1970; pass a real
 * date to make Wireshark's absolute times read naturally).
 */
import { PcapWriter } from "./_packet.js";
import type { Link, LinkPort, LinkTap } from "./link.js";

export class PortCapture {
  private constructor(
    private readonly writer: PcapWriter,
    private readonly untap: () => void,
  ) {}

  /** Starts capturing `port` (one end of `link`) into a new file at `path`. */
  static async start(
    link: Link,
    port: LinkPort,
    path: string,
    options: { epochNs?: bigint } = {},
  ): Promise<PortCapture> {
    link.wireOf(port); // throws, naming the link, if `port` is not on it
    const epoch = options.epochNs ?? 0n;
    const writer = await PcapWriter.create(path, { nanosecond: true });
    const tap: LinkTap = (kind, from, frame, offset, length, timeNs) => {
      const outgoing = from === port;
      if ((kind === "tx" && outgoing) || (kind === "rx" && !outgoing))
        writer.write(frame.subarray(offset, offset + length), epoch + BigInt(timeNs));
    };
    return new PortCapture(writer, link.tap(tap));
  }

  /** Frames written so far. */
  get packets(): number {
    return this.writer.packets;
  }

  /** Stops capturing and closes the file. */
  async stop(): Promise<void> {
    this.untap();
    await this.writer.close();
  }
}
