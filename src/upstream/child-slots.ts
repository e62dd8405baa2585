// How many children of one stdio server run at once, whoever started them: the server's own
// client sessions, federated APIs that include it, and 2026-07-28 clients' bridged sessions all
// spawn children of the same command, and `maxChildren` bounds them together.
export class ChildSlots {
  private running = 0;

  constructor(
    readonly server: string,
    /** maxChildren; a reload changes it for children started from then on. */
    public limit: number,
  ) {}

  get inUse(): number {
    return this.running;
  }

  /** Takes a slot; false when `limit` children already run. */
  take(): boolean {
    if (this.running >= this.limit) return false;
    this.running++;
    return true;
  }

  release(): void {
    if (this.running > 0) this.running--;
  }
}
