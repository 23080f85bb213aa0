/**
 * Every REST operation the client calls, as data: method, path template, the query and header
 * parameters it may send, whether it sends a body and which 2xx statuses it understands. The client
 * builds its requests from this table, and test/client/openapi-conformance.unit.spec.ts compares
 * it with the gateway's OpenAPI document both ways, so a change on either side fails a test.
 */
export type OperationShape = Readonly<{
  method: 'get' | 'put' | 'post' | 'delete';
  path: string;
  query: readonly string[];
  headers: readonly string[];
  body: boolean;
  /** The request body's media type when it is not JSON (sent as the text given, not serialised). */
  bodyContentType?: 'application/x-ndjson';
  success: readonly number[];
}>;

const mutation = ['idempotency-key'] as const;

export const operations = {
  putTeam: {
    method: 'put',
    path: '/v1/teams/{teamId}',
    query: [],
    headers: mutation,
    body: true,
    success: [200],
  },
  getTeam: { method: 'get', path: '/v1/teams/{teamId}', query: [], headers: [], body: false, success: [200] },
  createSession: {
    method: 'post',
    path: '/v1/sessions',
    query: [],
    headers: mutation,
    body: true,
    success: [201],
  },
  listSessions: {
    method: 'get',
    path: '/v1/sessions',
    query: ['status', 'teamId', 'createdAfter', 'createdBefore', 'limit', 'cursor'],
    headers: [],
    body: false,
    success: [200],
  },
  getSession: {
    method: 'get',
    path: '/v1/sessions/{id}',
    query: ['at'],
    headers: [],
    body: false,
    success: [200],
  },
  postMessage: {
    method: 'post',
    path: '/v1/sessions/{id}/messages',
    query: ['wait'],
    headers: mutation,
    body: true,
    success: [200, 202],
  },
  cancelTurn: {
    method: 'post',
    path: '/v1/sessions/{id}/cancel',
    query: [],
    headers: mutation,
    body: true,
    success: [202],
  },
  closeSession: {
    method: 'post',
    path: '/v1/sessions/{id}/close',
    query: [],
    headers: mutation,
    body: true,
    success: [200],
  },
  decideApproval: {
    method: 'post',
    path: '/v1/sessions/{id}/approvals/{toolCallId}',
    query: [],
    headers: mutation,
    body: true,
    success: [202],
  },
  forkSession: {
    method: 'post',
    path: '/v1/sessions/{id}/fork',
    query: [],
    headers: mutation,
    body: true,
    success: [201],
  },
  auditSession: {
    method: 'get',
    path: '/v1/sessions/{id}/audit',
    query: [],
    headers: [],
    body: false,
    success: [200],
  },
  exportSession: {
    method: 'get',
    path: '/v1/sessions/{id}/export',
    query: [],
    headers: [],
    body: false,
    success: [200],
  },
  importSession: {
    method: 'post',
    path: '/v1/sessions:import',
    query: [],
    headers: [],
    body: true,
    bodyContentType: 'application/x-ndjson',
    success: [201],
  },
  listEvents: {
    method: 'get',
    path: '/v1/sessions/{id}/events',
    query: ['after', 'limit'],
    headers: [],
    body: false,
    success: [200],
  },
  streamEvents: {
    method: 'get',
    path: '/v1/sessions/{id}/stream',
    query: ['after'],
    headers: ['last-event-id'],
    body: false,
    success: [200],
  },
  putWebhook: {
    method: 'put',
    path: '/v1/webhooks/{webhookId}',
    query: [],
    headers: [],
    body: true,
    success: [200, 201],
  },
  listWebhooks: { method: 'get', path: '/v1/webhooks', query: [], headers: [], body: false, success: [200] },
  getWebhook: {
    method: 'get',
    path: '/v1/webhooks/{webhookId}',
    query: [],
    headers: [],
    body: false,
    success: [200],
  },
  deleteWebhook: {
    method: 'delete',
    path: '/v1/webhooks/{webhookId}',
    query: [],
    headers: [],
    body: false,
    success: [204],
  },
  rotateWebhookSecret: {
    method: 'post',
    path: '/v1/webhooks/{webhookId}/rotate-secret',
    query: [],
    headers: [],
    body: false,
    success: [200],
  },
  listWebhookDeliveries: {
    method: 'get',
    path: '/v1/webhooks/{webhookId}/deliveries',
    query: ['status', 'limit', 'after'],
    headers: [],
    body: false,
    success: [200],
  },
  redeliverWebhook: {
    method: 'post',
    path: '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
    query: [],
    headers: [],
    body: false,
    success: [202],
  },
  live: { method: 'get', path: '/health/live', query: [], headers: [], body: false, success: [200] },
  ready: { method: 'get', path: '/health/ready', query: [], headers: [], body: false, success: [200, 503] },
  metrics: { method: 'get', path: '/metrics', query: [], headers: [], body: false, success: [200] },
} as const satisfies Record<string, OperationShape>;

export type OperationId = keyof typeof operations;

/** `/v1/sessions/{id}` with `{ id: 's 1' }` → `/v1/sessions/s%201`. */
export const expandPath = (template: string, params: Readonly<Record<string, string>>): string =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
