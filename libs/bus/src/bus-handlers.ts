import { EventPattern, MessagePattern } from '@nestjs/microservices';
import type { CommandSubject, EventSubject } from '#libs/contracts';

/**
 * A request/reply handler. `queue` makes one replica of the service answer each request;
 * never use it for change events.
 */
export function CommandHandler(subject: CommandSubject, queue: string): MethodDecorator {
  return MessagePattern(subject, { queue });
}

/** A change-event handler: every replica receives every event (no queue group). */
export function ChangeEventHandler(subject: EventSubject): MethodDecorator {
  return EventPattern(subject) as MethodDecorator;
}
