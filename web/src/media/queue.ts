// Runs async tasks strictly one after another. Signalling and negotiation steps
// must not interleave (a candidate before its remote description, two offers at
// once), so every such step goes through a queue.

export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  /** Adds a task; the returned promise settles with it. A failed task does not stop the queue. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves when everything queued so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }
}
