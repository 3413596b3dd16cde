import type { CanonicalStreamPart, ChatResponse, CompletionResponse } from './canonical.js';

/**
 * A whole answer as the stream parts a streaming upstream would have sent for it, so a model whose
 * upstream does not stream can still answer a stream request in any client format (issue 13, item
 * 3): metadata, then usage (Anthropic's message_start carries the input tokens), then each choice's
 * content in order, tool calls numbered per choice from 0, and its finish.
 */
export function streamPartsFromResponse(res: ChatResponse | CompletionResponse): CanonicalStreamPart[] {
  const parts: CanonicalStreamPart[] = [];
  const meta: CanonicalStreamPart = { type: 'response-metadata' };
  if (res.id !== undefined) meta.id = res.id;
  if (res.model !== undefined) meta.model = res.model;
  if (res.created !== undefined) meta.created = res.created;
  parts.push(meta);
  if (res.usage) parts.push({ type: 'usage', usage: res.usage });
  for (const c of res.choices) {
    const choice = c.index;
    if ('text' in c) {
      if (c.text !== '') parts.push({ type: 'text-delta', choice, text: c.text });
    } else {
      let tool = 0;
      for (const p of c.content) {
        switch (p.type) {
          case 'text':
            if (p.text !== '') parts.push({ type: 'text-delta', choice, text: p.text });
            break;
          case 'reasoning':
            if (p.text !== '') parts.push({ type: 'reasoning-delta', choice, text: p.text });
            if (p.signature) parts.push({ type: 'reasoning-signature', choice, signature: p.signature });
            break;
          case 'redacted-reasoning':
            parts.push({ type: 'redacted-reasoning', choice, data: p.data });
            break;
          case 'tool-call': {
            const index = tool++;
            parts.push({ type: 'tool-call-start', choice, index, id: p.toolCallId, name: p.toolName });
            if (p.input !== '') parts.push({ type: 'tool-call-delta', choice, index, inputDelta: p.input });
            break;
          }
        }
      }
    }
    const finish: CanonicalStreamPart = { type: 'finish', choice, reason: c.finishReason };
    if (c.rawFinishReason !== undefined) finish.rawReason = c.rawFinishReason;
    if ('stopSequence' in c && c.stopSequence !== undefined) finish.stopSequence = c.stopSequence;
    parts.push(finish);
  }
  return parts;
}
