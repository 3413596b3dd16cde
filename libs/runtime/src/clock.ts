import { Injectable } from '@nestjs/common';

/** The time, behind a class so a rule that depends on it can be tested with a fixed clock. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
