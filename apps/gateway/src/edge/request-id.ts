import { randomUUID } from 'node:crypto';

/**
 * The gateway's own request id, minted for every request (/v1, /admin, and answers the edge gives
 * before either): it names the request in the logs of every replica and on its span. A client's
 * x-request-id is never taken as the id (it could collide with or impersonate another request's).
 */
export function mintRequestId(): string {
  return randomUUID();
}
