/** What a client reported in a test session, in order, and a way to wait for one report. */
export class ReportLog<R extends { kind: string }> {
  readonly reports: R[] = [];
  private readonly listeners = new Set<() => void>();

  /** Records a report and wakes whoever waits for one like it. */
  add(entry: R): void {
    this.reports.push(entry);
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves with the first report (from the start) of `kind` that matches; rejects after `timeoutMs`. */
  waitFor<K extends R["kind"]>(
    kind: K,
    match: (report: Extract<R, { kind: K }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<R, { kind: K }>> {
    type Found = Extract<R, { kind: K }>;
    return new Promise((resolve, reject) => {
      const find = () => this.reports.find((r) => r.kind === kind && match(r as Found)) as Found | undefined;
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`No ${kind} report within ${timeoutMs} ms; got ${JSON.stringify(this.reports)}`));
      }, timeoutMs);
      const check = () => {
        const found = find();
        if (!found) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(found);
      };
      this.listeners.add(check);
      check();
    });
  }
}
