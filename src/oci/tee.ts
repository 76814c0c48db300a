// One source stream feeding many consumers with backpressure: each consumer gets an AsyncIterable that buffers at
// most a few chunks, the producer waits for the slowest live consumer, and a consumer that stops (its upload failed)
// is dropped without stalling the rest. Memory stays O(consumers × chunk), whatever the blob size.

/** Bytes a consumer may fall behind before the producer waits for it. */
export const DEFAULT_HIGH_WATER = 1 << 20;

export class Channel implements AsyncIterable<Uint8Array> {
  private readonly buf: Uint8Array[] = [];
  private ended = false;
  private error: unknown;
  private gone = false;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;
  private buffered = 0;

  constructor(private readonly highWater = DEFAULT_HIGH_WATER) {}

  /** Resolves once the chunk is buffered under the high-water mark, or at once if the consumer is gone. */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.gone) return;
    this.buf.push(chunk);
    this.buffered += chunk.length;
    this.wake('consumer');
    while (!this.gone && this.buffered >= this.highWater) {
      await new Promise<void>((r) => (this.wakeProducer = r));
    }
  }

  end(): void {
    this.ended = true;
    this.wake('consumer');
  }

  fail(e: unknown): void {
    this.error = e ?? new Error('source failed');
    this.wake('consumer');
  }

  /** The consumer will not read (any more): stop buffering for it and never block the producer on it. */
  abandon(): void {
    this.gone = true;
    this.buf.length = 0;
    this.buffered = 0;
    this.wake('producer');
  }

  get closed(): boolean {
    return this.gone;
  }

  private wake(who: 'consumer' | 'producer'): void {
    const f = who === 'consumer' ? this.wakeConsumer : this.wakeProducer;
    if (who === 'consumer') this.wakeConsumer = undefined;
    else this.wakeProducer = undefined;
    f?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        // A source failure wins over buffered data: the consumer must not complete a body the source disowned.
        if (this.error !== undefined) throw this.error;
        const c = this.buf.shift();
        if (c !== undefined) {
          this.buffered -= c.length;
          this.wake('producer');
          yield c;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((r) => (this.wakeConsumer = r));
      }
    } finally {
      this.gone = true;
      this.buf.length = 0;
      this.buffered = 0;
      this.wake('producer');
    }
  }
}

/** Pump `source` into every channel; ends them on success, fails them all on a source error (then rethrows). */
export async function pump(source: AsyncIterable<Uint8Array>, channels: readonly Channel[]): Promise<void> {
  try {
    for await (const chunk of source) {
      const live = channels.filter((c) => !c.closed);
      if (live.length === 0) break;
      if (live.length === 1) await live[0]!.push(chunk);
      else await Promise.all(live.map((c) => c.push(chunk)));
    }
  } catch (e) {
    for (const c of channels) c.fail(e);
    throw e;
  }
  for (const c of channels) c.end();
}
