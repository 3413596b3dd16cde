import { secretField, settingField, validateSettings, type CallTarget, type ProviderAdapterV2, type SettingsError, type SettingsSchema, type SettingsValidation } from '#libs/adapter-sdk';
import { chatResponseFromConverse, converseRequestFromCanonical } from './bedrock-converse.js';
import { embeddingBody, embeddingResponseFromBedrock } from './bedrock-embeddings.js';
import { mapBedrockError } from './bedrock-errors.js';
import { createBedrockConverseStreamDecoder } from './bedrock-event-stream.js';
import { signAwsRequest, type AwsCredentials } from './bedrock-signer.js';

const settings: SettingsSchema = {
  fields: [
    settingField('region', 'AWS region of the Bedrock runtime, e.g. us-east-1; also the SigV4 signing region.', { required: true }),
    settingField(
      'baseUrl',
      'Endpoint override (a VPC endpoint, a proxy); default https://bedrock-runtime.{region}.amazonaws.com. Given at the top level of the connection, like every base URL.',
      { type: 'url' },
    ),
    secretField('accessKeyId', 'AWS access key id (AKIA... or, for temporary credentials, ASIA...).', { required: true }),
    secretField('secretAccessKey', 'AWS secret access key.', { required: true }),
    secretField('sessionToken', 'Session token of temporary credentials (STS), sent as x-amz-security-token.'),
    settingField('cohereInputType', 'input_type sent to Cohere Embed models (the OpenAI embeddings request has no such field).', {
      default: 'search_document',
      enum: ['search_document', 'search_query', 'classification', 'clustering'],
    }),
  ],
};

/** AWS region names: two letters, optional partition words, a number (us-east-1, us-gov-west-1, ap-southeast-5, eusc-de-east-1). */
const REGION = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;
/** AWS access key ids: 16 to 128 upper-case letters and digits. */
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

function validateBedrockSettings(input: unknown): SettingsValidation {
  const checked = validateSettings(settings, input);
  const errors: SettingsError[] = 'errors' in checked ? [...checked.errors] : [];
  const given = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const failed = new Set(errors.map((e) => e.field));
  if (!failed.has('region') && typeof given.region === 'string' && given.region !== '' && !REGION.test(given.region)) {
    errors.push({ field: 'region', message: 'must be an AWS region name such as us-east-1' });
  }
  if (!failed.has('accessKeyId') && typeof given.accessKeyId === 'string' && given.accessKeyId !== '' && !ACCESS_KEY_ID.test(given.accessKeyId)) {
    errors.push({ field: 'accessKeyId', message: 'must be an AWS access key id (16 to 128 upper-case letters and digits, e.g. AKIA...)' });
  }
  return errors.length > 0 ? { errors } : checked;
}

function region(target: CallTarget): string {
  const r = target.settings.region;
  if (typeof r !== 'string' || r === '') throw new Error('the connection has no region');
  return r;
}

function endpoint(target: CallTarget): string {
  const override = target.baseUrl ?? (typeof target.settings.baseUrl === 'string' && target.settings.baseUrl !== '' ? target.settings.baseUrl : undefined);
  return (override ?? `https://bedrock-runtime.${region(target)}.amazonaws.com`).replace(/\/+$/, '');
}

function credentials(target: CallTarget): AwsCredentials {
  const { accessKeyId, secretAccessKey, sessionToken } = target.secrets;
  if (!accessKeyId || !secretAccessKey) throw new Error('the connection has no AWS access key');
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

/** POST /model/{modelId}/{action}, the model id percent-encoded as the SDK does (`:` in versioned ids, `/` in ARNs). */
async function signedPost(target: CallTarget, action: 'converse' | 'converse-stream' | 'invoke', body: Record<string, unknown>, accept: string) {
  const url = `${endpoint(target)}/model/${encodeURIComponent(target.upstreamModel)}/${action}`;
  return signAwsRequest(
    { url, method: 'POST', headers: { ...target.headers, 'content-type': 'application/json', accept }, body: JSON.stringify(body) },
    credentials(target),
    region(target),
  );
}

/**
 * Amazon Bedrock (runtime): chat through Converse and ConverseStream, embeddings (Titan, Cohere)
 * through InvokeModel, every request signed with SigV4 (service `bedrock`, the connection's region).
 */
export const bedrockAdapter: ProviderAdapterV2 = {
  specificationVersion: 'v2',
  id: 'bedrock',
  providerName: 'aws.bedrock',
  nativeFormat: 'bedrock',
  settings,
  validateSettings: validateBedrockSettings,
  chat: {
    async buildRequest(req, target) {
      const { body, warnings } = converseRequestFromCanonical(req);
      const request = await signedPost(target, req.stream ? 'converse-stream' : 'converse', body, req.stream ? 'application/vnd.amazon.eventstream' : 'application/json');
      return { request, warnings };
    },
    parseResponse: chatResponseFromConverse,
    createStreamDecoder: createBedrockConverseStreamDecoder,
  },
  embedding: {
    async buildRequest(req, target) {
      const inputType = typeof target.settings.cohereInputType === 'string' ? target.settings.cohereInputType : 'search_document';
      const { body, warnings } = embeddingBody(req, target.upstreamModel, inputType);
      return { request: await signedPost(target, 'invoke', body, 'application/json'), warnings };
    },
    parseResponse: embeddingResponseFromBedrock,
  },
  mapError: mapBedrockError,
};
