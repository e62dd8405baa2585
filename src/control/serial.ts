// Writes through this node to one thing (an agent, a user, a credential, an admin user, or the
// whole draft), one at a time: the check of an ETag and the write it guards must not interleave
// with another request's (each awaits the store in between). Across nodes the store decides: the
// draft's revision (deployments.ts); for store-backed objects a compare-and-set, the write landing
// only if the object is still what was read (conditional.ts, and the control store for admin users).

export class Serial {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after every earlier `run` of the same key has settled. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(work, work);
    // The tail never rejects, so one refusal does not refuse the writes queued behind it.
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
