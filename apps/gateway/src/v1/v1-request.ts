import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal.js';

/** One authenticated /v1 call whose body has been read and parsed (as JSON, any shape). */
export interface V1Request {
  req: IncomingMessage;
  res: ServerResponse;
  principal: Principal;
  body: unknown;
  /** The gateway's own id of this call, minted at the front door (never the client's). */
  requestId: string;
}
