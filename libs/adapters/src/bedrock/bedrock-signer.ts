import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

/**
 * SigV4 for Bedrock (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html) through
 * @smithy/signature-v4, the AWS SDK's own signer, with node:crypto's native SHA-256 (the signer
 * hashes the body on every call: the pure-JS hash would cost the hot path several times more).
 */

const toBuffer = (data: SourceData): Buffer =>
  typeof data === 'string' ? Buffer.from(data, 'utf8') : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

/** The Checksum the signer takes: a hash, or an HMAC when constructed with a secret. */
export class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  update(data: Uint8Array): void {
    this.hash.update(toBuffer(data));
  }

  async digest(): Promise<Uint8Array> {
    const out = this.hash.digest();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignableRequest {
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
}

/** One signer per credentials and region: a signer caches its derived signing key for the day. */
const signers = new Map<string, SignatureV4>();
const MAX_SIGNERS = 256;

function signerFor(credentials: AwsCredentials, region: string, service: string): SignatureV4 {
  const key = `${service}\n${region}\n${credentials.accessKeyId}\n${credentials.secretAccessKey}\n${credentials.sessionToken ?? ''}`;
  let signer = signers.get(key);
  if (!signer) {
    if (signers.size >= MAX_SIGNERS) signers.clear();
    signer = new SignatureV4({ credentials, region, service, sha256: NodeSha256, uriEscapePath: true, applyChecksum: true });
    signers.set(key, signer);
  }
  return signer;
}

/**
 * The request with its SigV4 headers (authorization, x-amz-date, x-amz-content-sha256 and, for
 * temporary credentials, x-amz-security-token). `url`'s path must already be percent-encoded as it
 * goes on the wire: the signer encodes it once more for the canonical request, as AWS expects.
 */
export async function signAwsRequest(req: SignableRequest, credentials: AwsCredentials, region: string, service = 'bedrock', signingDate?: Date): Promise<SignableRequest> {
  const url = new URL(req.url);
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const signed = await signerFor(credentials, region, service).sign(
    {
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: url.pathname,
      query,
      headers: { ...req.headers, host: url.host },
      body: req.body,
    },
    signingDate ? { signingDate } : undefined,
  );
  return { ...req, headers: signed.headers };
}
