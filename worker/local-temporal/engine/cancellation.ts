/**
 * The cancellation of one gRPC call (the caller went away, or the server is closing). A plain
 * listener set: far cheaper than an AbortController per call on the server's hot path.
 */
export class Cancellation {
  private readonly listeners = new Set<() => void>();
  private done = false;

  get cancelled(): boolean {
    return this.done;
  }

  /** Registers a listener; returns its removal. A listener added after cancellation runs in a microtask. */
  onCancel(listener: () => void): () => void {
    if (this.done) {
      queueMicrotask(listener);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    for (const listener of [...this.listeners]) listener();
    this.listeners.clear();
  }
}
