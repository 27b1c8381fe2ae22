// JSON schemas of the assistant's routes (they document the OpenAPI and shape the answers).

import { MAX_QUESTION_CHARS } from '@cascade/assistant';

const str = { type: 'string' } as const;

export const askBody = {
  type: 'object',
  required: ['question'],
  additionalProperties: false,
  properties: {
    question: { type: 'string', minLength: 1, maxLength: MAX_QUESTION_CHARS, description: 'the question in the user’s own words' },
    infoHash: { type: 'string', pattern: '^[0-9a-fA-F]{40}$', description: 'ask about this torrent: its checks run first (404 when unknown)' },
    conversation: { type: 'string', maxLength: 200, description: 'the id an earlier answer gave, to keep context ("and now?" re-runs its checks)' },
  },
} as const;

const actionSchema = {
  type: 'object',
  properties: {
    id: str,
    label: str,
    request: {
      type: 'object',
      description: 'an API call on this node the action makes (with the caller’s credentials)',
      properties: { method: { type: 'string', enum: ['POST', 'PATCH', 'PUT', 'DELETE'] }, path: str, body: {} },
    },
    href: { type: 'string', description: 'a place in the web UI ("#/settings")' },
    command: { type: 'string', description: 'the same step on the command line' },
  },
} as const;

const findingSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'the check: tracker-unreachable, no-dht, hash-failures, disk-full, local-only…' },
    severity: { type: 'string', enum: ['problem', 'warning', 'ok', 'info'] },
    title: str,
    evidence: { type: 'string', description: 'the facts, with names, numbers and times' },
    infoHash: str,
    entries: { type: 'array', items: str, description: 'help entries that explain it' },
    actions: { type: 'array', items: actionSchema },
  },
} as const;

export const answerSchema = {
  type: 'object',
  properties: {
    answer: { type: 'string', description: 'plain text (light Markdown), citing sources as [n]' },
    findings: { type: 'array', items: findingSchema },
    sources: {
      type: 'array',
      items: { type: 'object', properties: { id: str, title: str, ui: { type: ['string', 'null'] }, score: { type: 'number' } } },
    },
    actions: { type: 'array', items: actionSchema },
    conversation: str,
    answeredBy: { type: 'string', description: '"built-in" without a language model, else the model’s name' },
  },
} as const;

export const assistantInfoSchema = {
  type: 'object',
  properties: {
    llm: {
      type: ['object', 'null'],
      description: 'null: nothing leaves this machine; else the configured model and the host questions go to',
      properties: {
        model: str,
        url: { type: 'string', description: 'the endpoint’s host, or "this node" for a local model' },
        local: { type: 'boolean', description: 'true: a GGUF model in the node’s own process (--llm-gguf); nothing leaves the machine' },
      },
    },
    entries: { type: 'integer', description: 'help entries the assistant answers from' },
  },
} as const;

export const announceResultSchema = {
  type: 'object',
  properties: {
    infoHash: str,
    name: { type: ['string', 'null'] },
    state: str,
    announced: { type: 'boolean', description: 'false for a paused or failed torrent: it announces nowhere' },
    dht: { type: 'string', enum: ['off', 'not announced', 'private torrent', 'announced'], description: 'what the DHT did: off on this node, not asked (paused), or off for a private torrent' },
    trackers: { type: 'array', items: { $ref: 'Tracker#' } },
  },
} as const;
