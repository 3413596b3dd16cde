import { lookup } from 'node:dns/promises';

/** Resolves a host name to its addresses. DNS behind a class, so the rules that use it are tested with a fake. */
export abstract class HostResolver {
  /** Every address the name resolves to, in the resolver's order; rejects when it resolves to none. */
  abstract resolve(host: string): Promise<string[]>;
}

/**
 * The system resolver (getaddrinfo through libuv, as Node's net would use): /etc/hosts and the
 * search domains apply, so a name means what it means to every other program on the host.
 */
export class SystemHostResolver extends HostResolver {
  async resolve(host: string): Promise<string[]> {
    const answers = await lookup(host, { all: true, order: 'verbatim' });
    return answers.map((a) => a.address);
  }
}
