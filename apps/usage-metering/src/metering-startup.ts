import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Delay } from './common/delay.js';
import { DefinitionsReadModel } from './definitions/definitions-read-model.js';
import { SpanBatchConsumer } from './records/span-batch.consumer.js';
import { UnpricedRecordsRepricer } from './records/unpriced-records.repricer.js';

/**
 * Opened once the service's bus handlers are subscribed. Loading the definitions waits for it, so no
 * change event can fall between the first load and the subscription that hears the next one.
 */
export class BusListening {
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));

  markOpen(): void {
    this.open();
  }
}

export const BUS_LISTENING = Symbol('BUS_LISTENING');

/**
 * The start order the pricing rules need, off the start path (the service answers pings and reports
 * while the registry is still away): bus handlers listening -> definitions loaded (retrying until
 * the registry answers) -> unpriced records re-priced, durable consumer started. Spans wait in the
 * stream meanwhile, so none is priced against no definitions.
 */
@Injectable()
export class MeteringStartup implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(MeteringStartup.name);
  private stopped = false;
  private readonly stopping = new AbortController();

  constructor(
    @Inject(BUS_LISTENING) private readonly listening: BusListening,
    private readonly definitions: DefinitionsReadModel,
    private readonly consumer: SpanBatchConsumer,
    private readonly repricer: UnpricedRecordsRepricer,
    private readonly delay: Delay,
  ) {}

  onApplicationBootstrap(): void {
    void this.listening.opened.then(() => this.start()).catch((e: unknown) => this.logger.error(`start failed: ${String(e)}`));
  }

  private async start(): Promise<void> {
    if (!(await this.definitions.loadUntilAnswered()) || this.stopped) return;
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.consumer.start();
        return;
      } catch (err) {
        this.logger.error(`could not start consuming spans (attempt ${attempt}): ${err instanceof Error ? err.message : String(err)}`);
        await this.delay.wait(Math.min(500 * attempt, 5000), this.stopping.signal);
      }
    }
  }

  /** Stops the consumer (finishing the batch in hand) and re-pricing before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.definitions.stop();
    // A start still waiting on the registry is not awaited: it ends when the bus closes, and the
    // stopped consumer refuses to start.
    await this.consumer.stop();
    await this.repricer.stop();
  }
}
