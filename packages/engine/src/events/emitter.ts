// A minimal typed-enough event emitter so the core needs no `node:events` in the browser.
type Listener = (...args: any[]) => void;

export class Emitter {
  /** Made on the first listener: 10,000 torrents nobody listens to hold no maps. */
  private listeners: Map<string, Listener[]> | undefined;

  on(event: string, fn: Listener): this {
    const list = this.listeners?.get(event);
    if (list) list.push(fn);
    else (this.listeners ??= new Map()).set(event, [fn]);
    return this;
  }

  once(event: string, fn: Listener): this {
    const wrapper: Listener = (...args) => {
      this.off(event, wrapper);
      fn(...args);
    };
    (wrapper as { original?: Listener }).original = fn;
    return this.on(event, wrapper);
  }

  off(event: string, fn: Listener): this {
    const list = this.listeners?.get(event);
    if (!list) return this;
    const i = list.findIndex((l) => l === fn || (l as { original?: Listener }).original === fn);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  emit(event: string, ...args: unknown[]): boolean {
    const list = this.listeners?.get(event);
    if (!list || list.length === 0) return false;
    for (const fn of [...list]) fn(...args);
    return true;
  }

  listenerCount(event: string): number {
    return this.listeners?.get(event)?.length ?? 0;
  }
}
