import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LockNotifier, LockTable } from "../../ovsdb/lock.js";

class Client implements LockNotifier {
  readonly events: string[] = [];
  constructor(readonly name: string) {}
  locked(lock: string): void {
    this.events.push(`locked ${lock}`);
  }
  stolen(lock: string): void {
    this.events.push(`stolen ${lock}`);
  }
}

describe("LockTable", () => {
  it("gives a free lock at once and queues later lockers until the owner unlocks", () => {
    const t = new LockTable();
    const a = new Client("a");
    const b = new Client("b");
    expect(t.acquire("ovs_vswitchd", a, "lock")).toBe(true);
    expect(t.acquire("ovs_vswitchd", b, "lock")).toBe(false);
    expect(b.events).toEqual([]);
    t.release("ovs_vswitchd", a);
    expect(b.events).toEqual(["locked ovs_vswitchd"]);
    expect(t.isOwner("ovs_vswitchd", b)).toBe(true);
  });

  it("lets steal take the lock, tells the victim, and returns it when the thief unlocks", () => {
    const t = new LockTable();
    const a = new Client("a");
    const b = new Client("b");
    t.acquire("x", a, "lock");
    expect(t.acquire("x", b, "steal")).toBe(true);
    expect(a.events).toEqual(["stolen x"]);
    expect(t.isOwner("x", b)).toBe(true);
    t.release("x", b);
    expect(a.events).toEqual(["stolen x", "locked x"]);
  });

  it("releases every lock of a session that goes away", () => {
    const t = new LockTable();
    const a = new Client("a");
    const b = new Client("b");
    t.acquire("x", a, "lock");
    t.acquire("y", a, "lock");
    t.acquire("y", b, "lock");
    t.releaseAll(a);
    expect(t.owner("x")).toBeUndefined();
    expect(t.isOwner("y", b)).toBe(true);
    expect(b.events).toEqual(["locked y"]);
  });

  it("never has two owners and always has one while anyone waits (random operations)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom("lock", "steal", "unlock")),
          {
            maxLength: 40,
          },
        ),
        (ops) => {
          const t = new LockTable();
          const clients = [0, 1, 2, 3].map((i) => new Client(String(i)));
          for (const [i, op] of ops) {
            const c = clients[i]!;
            if (op === "unlock") t.release("l", c);
            else if (!t.isWaiting("l", c)) t.acquire("l", c, op);
            const owners = clients.filter((x) => t.isOwner("l", x));
            const waiting = clients.filter((x) => t.isWaiting("l", x));
            expect(owners.length).toBe(waiting.length > 0 ? 1 : 0);
          }
        },
      ),
    );
  });
});
