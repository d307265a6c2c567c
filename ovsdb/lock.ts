/**
 * OVSDB locks (RFC 7047 section 4.1.8-4.1.10; ovsdb/lock.c): named, advisory locks that
 * clients use to elect one writer (ovs-vswitchd takes "ovs_vswitchd").
 *
 * Glossary: a "waiter" is one session's interest in one lock; the first waiter of a
 * lock is its "owner". `lock` queues at the back, `steal` at the front; the owner that
 * was stolen from stays queued and gets the lock back when the thief lets go, as in
 * ovsdb/lock.c.
 *
 * Promises: at most one owner per lock; every change of owner is reported through the
 * `LockNotifier` of the affected session ("locked" to the new owner, "stolen" to the
 * old one) after the table is consistent; a session's waiters all go when it ends.
 * Does not: know about sockets or JSON-RPC (session.ts sends the notifications).
 */

/** The party that holds or waits for locks; one per client session. */
export interface LockNotifier {
  /** This session now owns `name` (it asked earlier and had to wait). */
  locked(name: string): void;
  /** Another session stole `name` from this one. */
  stolen(name: string): void;
}

export type LockMode = "lock" | "steal";

/** RFC 7047 section 4.1.8: a lock name is an <id>. */
export const LOCK_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class LockTable {
  private readonly waiters = new Map<string, LockNotifier[]>();

  /**
   * Adds `who` as a waiter for `name` and returns whether it owns the lock now. The
   * caller must not call it twice for one (session, name) pair without `unlock`.
   */
  acquire(name: string, who: LockNotifier, mode: LockMode): boolean {
    let queue = this.waiters.get(name);
    if (!queue) {
      queue = [];
      this.waiters.set(name, queue);
    }
    if (mode === "steal") {
      const victim = queue[0];
      queue.unshift(who);
      if (victim && victim !== who) victim.stolen(name);
      return true;
    }
    queue.push(who);
    return queue[0] === who;
  }

  /** Removes `who`'s waiter for `name`; the next waiter, if any, is told it owns it. */
  release(name: string, who: LockNotifier): boolean {
    const queue = this.waiters.get(name);
    if (!queue) return false;
    const at = queue.indexOf(who);
    if (at < 0) return false;
    queue.splice(at, 1);
    if (queue.length === 0) {
      this.waiters.delete(name);
      return true;
    }
    if (at === 0) queue[0]!.locked(name);
    return true;
  }

  /** Drops every waiter of a session that went away. */
  releaseAll(who: LockNotifier): void {
    for (const name of [...this.waiters.keys()]) this.release(name, who);
  }

  isOwner(name: string, who: LockNotifier): boolean {
    return this.waiters.get(name)?.[0] === who;
  }

  isWaiting(name: string, who: LockNotifier): boolean {
    return this.waiters.get(name)?.includes(who) ?? false;
  }

  owner(name: string): LockNotifier | undefined {
    return this.waiters.get(name)?.[0];
  }
}
