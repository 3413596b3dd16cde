import { anthropicMessageId } from './messages.endpoint.js';

describe('anthropicMessageId', () => {
  it('is msg_ and the request id without its dashes, wherever they are', () => {
    expect(anthropicMessageId('0b6c3f1e-5d2a-4c8e-9f10-7a2b3c4d5e6f')).toBe('msg_0b6c3f1e5d2a4c8e9f107a2b3c4d5e6f');
    expect(anthropicMessageId('-a--b-')).toBe('msg_ab');
    expect(anthropicMessageId('plain')).toBe('msg_plain');
    expect(anthropicMessageId('')).toBe('msg_');
  });
});
