import { Injectable } from '@nestjs/common';

/** Where this gateway's /v1 API can be reached by the other services; known once it listens. */
@Injectable()
export class GatewayAddress {
  private value?: string;

  set(url: string): void {
    this.value = url;
  }

  get url(): string {
    if (!this.value) throw new Error('the gateway is not listening yet');
    return this.value;
  }
}
