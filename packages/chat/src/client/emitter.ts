// A small typed event emitter (platform-free).
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export class Emitter<E extends Record<string, unknown[]>> {
  private readonly handlers = new Map<keyof E, Set<Function>>();

  on<K extends keyof E>(event: K, fn: (...args: E[K]) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  off<K extends keyof E>(event: K, fn: (...args: E[K]) => void): void {
    this.handlers.get(event)?.delete(fn);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const fn of [...(this.handlers.get(event) ?? [])]) {
      try {
        (fn as (...a: E[K]) => void)(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  removeAllListeners(): void {
    this.handlers.clear();
  }
}
