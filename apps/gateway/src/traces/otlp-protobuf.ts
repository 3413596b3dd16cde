import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { OtlpPayloadError } from './otlp-spans.js';

/** The vendored OTLP protos (proto/README.md), relative to the repository (and the deploy image's) root. */
const TRACE_SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';

/** The repository's proto/ folder, found from this module whether it runs from src (tests) or dist. */
function protoDirectory(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'proto');
    if (existsSync(path.join(candidate, TRACE_SERVICE_PROTO))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`proto/${TRACE_SERVICE_PROTO} was not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * OTLP/HTTP's protobuf encoding, with the message types protobufjs builds from the official .proto
 * files at start (no hand-written wire parsing). Decoded messages come out with OTLP/JSON's field
 * names (lowerCamelCase), ids as bytes and 64-bit integers as decimal strings, so readOtlpSpans
 * reads both encodings.
 */
export class OtlpProtobuf {
  private readonly request: protobuf.Type;
  private readonly response: protobuf.Type;

  constructor(directory = protoDirectory()) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(directory, target);
    root.loadSync(TRACE_SERVICE_PROTO, { keepCase: false });
    root.resolveAll();
    this.request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
    this.response = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
  }

  /** @throws OtlpPayloadError when the bytes are not an ExportTraceServiceRequest */
  decodeRequest(bytes: Uint8Array): unknown {
    let message: protobuf.Message;
    try {
      message = this.request.decode(bytes);
    } catch (err) {
      throw new OtlpPayloadError('body', `is not a protobuf ExportTraceServiceRequest: ${(err as Error).message}`);
    }
    // Ids stay bytes (readOtlpSpans checks their length); enums numbers; int64 decimal strings.
    return this.request.toObject(message, { longs: String, enums: Number, arrays: false, defaults: false });
  }

  /** An empty ExportTraceServiceResponse: every span was accepted. */
  encodeEmptyResponse(): Uint8Array {
    return this.response.encode(this.response.create({})).finish();
  }
}
