/**
 * ovsdb/microtask.ts — `queueReaction(fn)`: runs `fn` in the microtask queue, like
 * queueMicrotask(), as a reaction on one settled promise.
 *
 * Why not queueMicrotask(): Node wraps each queueMicrotask() callback in an
 * async-hooks resource, which costs more than the rest of a small request's
 * bookkeeping. A promise reaction joins the same FIFO queue, so ordering guarantees
 * (the log's group-commit flush before the replies queued after it) are unchanged.
 *
 * Does not: catch. `fn` must not throw (a throw becomes an unhandled rejection).
 */
const SETTLED = Promise.resolve();

export function queueReaction(fn: () => void): void {
  void SETTLED.then(fn);
}
