import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientConcurrency } from './client-concurrency.js';

const socketFrom = (remoteAddress: string) => ({ remoteAddress });
const requestOn = (socket: object) => ({ socket }) as unknown as IncomingMessage;
const response = () => new EventEmitter() as unknown as ServerResponse;

describe('ClientConcurrency', () => {
  it('admits up to the per-connection bound on one connection, and again once an answer closes', () => {
    const bound = new ClientConcurrency(2, 100);
    const socket = socketFrom('10.0.0.1');
    const first = response();
    expect(bound.admit(requestOn(socket), first)).toBe(true);
    expect(bound.admit(requestOn(socket), response())).toBe(true);
    expect(bound.admit(requestOn(socket), response())).toBe(false);
    expect(bound.admit(requestOn(socketFrom('10.0.0.1')), response())).toBe(true); // another connection of the same client
    first.emit('close');
    expect(bound.admit(requestOn(socket), response())).toBe(true);
  });

  it('admits up to the per-address bound over all connections of an address, other addresses unaffected', () => {
    const bound = new ClientConcurrency(10, 3);
    const answers = [1, 2, 3].map(() => response());
    for (const res of answers) expect(bound.admit(requestOn(socketFrom('10.0.0.1')), res)).toBe(true);
    expect(bound.admit(requestOn(socketFrom('10.0.0.1')), response())).toBe(false);
    expect(bound.admit(requestOn(socketFrom('10.0.0.2')), response())).toBe(true);
    expect(bound.inFlight('10.0.0.1')).toBe(3);
    for (const res of answers) res.emit('close');
    expect(bound.inFlight('10.0.0.1')).toBe(0);
    expect(bound.admit(requestOn(socketFrom('10.0.0.1')), response())).toBe(true);
  });

  it('counts nothing for a refused request, so refusals cannot leak slots', () => {
    const bound = new ClientConcurrency(1, 1);
    const socket = socketFrom('10.0.0.3');
    const admitted = response();
    bound.admit(requestOn(socket), admitted);
    const refused = response();
    expect(bound.admit(requestOn(socket), refused)).toBe(false);
    refused.emit('close');
    expect(bound.inFlight('10.0.0.3')).toBe(1);
    admitted.emit('close');
    expect(bound.inFlight('10.0.0.3')).toBe(0);
  });

  it('counts a response once however often it emits close', () => {
    const bound = new ClientConcurrency(1, 2);
    const socket = socketFrom('10.0.0.4');
    const first = response();
    bound.admit(requestOn(socket), first);
    bound.admit(requestOn(socketFrom('10.0.0.4')), response());
    first.emit('close');
    first.emit('close');
    expect(bound.inFlight('10.0.0.4')).toBe(1);
    expect(bound.admit(requestOn(socket), response())).toBe(true);
    expect(bound.admit(requestOn(socket), response())).toBe(false);
  });
});
