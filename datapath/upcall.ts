/**
 * The upcall channel: packets the datapath hands to vswitchd, either because no
 * megaflow matched ("miss") or because a megaflow's `userspace(...)` action asked for
 * it ("action"). OVS: dpif_upcall / DPIF_UC_MISS, DPIF_UC_ACTION.
 *
 * The queue is bounded (OVS's handler sockets are too): a packet that finds it full is
 * dropped and counted as "lost", exactly the `lost:` of `dpctl/show`. Queued upcalls
 * own copies of their packet and key, so the sim may reuse its receive buffers. Upcalls
 * are the slow path: allocating here is expected.
 */
import type { FlowKey } from "../packet/index.js";

export type UpcallType = "miss" | "action";

export interface Upcall {
  readonly type: UpcallType;
  /** A copy of the frame as it was when the upcall was made. */
  readonly packet: Uint8Array;
  /** A copy of the packet's flow key, metadata included (in_port, recirc_id, tunnel). */
  readonly key: FlowKey;
  /** Datapath port number the packet came in on. */
  readonly inPort: number;
  /** `userspace(...)` userdata bytes (action upcalls), else null. */
  readonly userdata: Uint8Array | null;
  /** The netlink pid named by `userspace(pid=..)`, 0 for misses. */
  readonly pid: number;
  /** The cookie text of the `userspace(...)` action, e.g. `slow_path(action)`; "" for misses. */
  readonly cookie: string;
}

export type UpcallHandler = (upcall: Upcall) => void;

/** Default queue depth (per datapath). */
export const UPCALL_QUEUE_DEFAULT = 1024;

/** A bounded FIFO of upcalls. */
export class UpcallQueue {
  private readonly ring: (Upcall | null)[];
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number = UPCALL_QUEUE_DEFAULT) {
    this.ring = new Array<Upcall | null>(capacity).fill(null);
  }

  /** Queues `u`; false (the caller counts "lost") when full. */
  push(u: Upcall): boolean {
    if (this.size === this.capacity) return false;
    this.ring[(this.head + this.size) % this.capacity] = u;
    this.size++;
    return true;
  }

  /** The oldest upcall, or null when empty. */
  shift(): Upcall | null {
    if (this.size === 0) return null;
    const u = this.ring[this.head];
    this.ring[this.head] = null;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return u;
  }

  get length(): number {
    return this.size;
  }
}
