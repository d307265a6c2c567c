/**
 * The world: one scheduler, one seeded RNG, and the registry of which port is on which
 * link. Every simulated object is made against a world and reads time and randomness
 * only from it, so one seed determines one run.
 *
 * It does not hold hosts or switches by name (the topology API on top of it does); MACs
 * it allocates are sequential, so they too are the same on every run.
 */
import { PortCapture } from "./capture.js";
import { Endpoint, type EndpointContext, type EndpointOptions } from "./endpoint.js";
import { InvalidParameterError } from "./errors.js";
import { Link, type LinkContext, type LinkOptions, type LinkPort } from "./link.js";
import { Rng } from "./rng.js";
import { type RunOptions, Scheduler } from "./scheduler.js";

export interface WorldOptions {
  /** Seed of the world's RNG. Default 1. */
  seed?: number;
}

export class World implements LinkContext, EndpointContext {
  readonly scheduler = new Scheduler();
  readonly rng: Rng;
  readonly portLinks = new Map<LinkPort, Link>();
  private macsAllocated = 0;

  constructor(options: WorldOptions = {}) {
    this.rng = new Rng(options.seed ?? 1);
  }

  nowNs(): number {
    return this.scheduler.nowNs();
  }

  /** A new VM or container (see Endpoint); its vNICs still need links. */
  endpoint(name: string, options: EndpointOptions = {}): Endpoint {
    return new Endpoint(this, name, options);
  }

  /** Locally administered unicast MACs in order: 02:00:00:00:00:01, :02, ... */
  allocateMac(): [number, number] {
    this.macsAllocated++;
    return [0x0200, this.macsAllocated >>> 0];
  }

  /**
   * Steps the scheduler until `done()` holds or nothing is left to do (or `maxEvents`
   * ran); returns whether `done()` holds. For "run until this ping finishes".
   */
  runUntil(done: () => boolean, maxEvents = 100_000_000): boolean {
    for (let n = 0; n < maxEvents && !done(); n++) if (!this.scheduler.step()) break;
    return done();
  }

  /** Joins two ports with a new link (see Link for the options and what is refused). */
  link(a: LinkPort, b: LinkPort, options: LinkOptions = {}): Link {
    return new Link(this, a, b, options);
  }

  /** The link `port` is on, if any. */
  linkOf(port: LinkPort): Link | undefined {
    return this.portLinks.get(port);
  }

  /** Starts a pcap capture of `port` (which must be on a link) into `path`. */
  capture(port: LinkPort, path: string, options: { epochNs?: bigint } = {}): Promise<PortCapture> {
    const link = this.portLinks.get(port);
    if (!link)
      throw new InvalidParameterError(
        `port ${port.name}`,
        "link",
        "attached before capturing",
        "none",
      );
    return PortCapture.start(link, port, path, options);
  }

  /** Runs the scheduler; see Scheduler.run. */
  run(options: RunOptions = {}): number {
    return this.scheduler.run(options);
  }

  /** Runs until nothing is left to do; see Scheduler.runUntilIdle. */
  runUntilIdle(maxEvents?: number): number {
    return this.scheduler.runUntilIdle(maxEvents);
  }
}
