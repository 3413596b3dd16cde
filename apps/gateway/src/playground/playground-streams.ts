import { Controller, Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ChangeEventHandler } from '#libs/bus';
import type { PlaygroundStreamEvent } from '#libs/contracts';

type Listener = (event: PlaygroundStreamEvent) => void;

/**
 * The playground sessions whose SSE client this replica holds. The evaluator publishes each
 * session's pieces to every gateway replica; only the one that registered the session relays them.
 */
@Injectable()
export class PlaygroundStreams {
  private readonly listeners = new Map<string, Listener>();

  open(sessionId: string, listener: Listener): () => void {
    this.listeners.set(sessionId, listener);
    return () => this.listeners.delete(sessionId);
  }

  deliver(event: PlaygroundStreamEvent): void {
    this.listeners.get(event.sessionId)?.(event);
  }
}

/** Every replica hears every playground stream event (no queue group). */
@Controller()
export class PlaygroundStreamEventsHandler {
  constructor(private readonly streams: PlaygroundStreams) {}

  @ChangeEventHandler('evaluator.v1.events.playground-stream')
  relay(@Payload() event: PlaygroundStreamEvent): void {
    if (typeof event?.sessionId === 'string') this.streams.deliver(event);
  }
}
