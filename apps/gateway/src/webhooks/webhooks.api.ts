import type { ApiOperation } from '../openapi/api-operation.ts';
import {
  deliveriesQuerySchema,
  deliveryListSchema,
  deliveryPathSchema,
  putWebhookBodySchema,
  putWebhookResponseSchema,
  secretResponseSchema,
  webhookListSchema,
  webhookPathSchema,
  webhookSchema,
} from './webhooks.schemas.ts';
import { z } from 'zod';

const tag = 'webhooks';
const notFound = { 404: { description: 'No such webhook (or another tenant’s)' } };

export const webhookOperations: readonly ApiOperation[] = [
  {
    method: 'put',
    path: '/v1/webhooks/{webhookId}',
    operationId: 'putWebhook',
    summary: 'Register or update an endpoint; the signing secret is returned once, on creation',
    tag,
    scope: 'webhooks:write',
    params: webhookPathSchema,
    body: putWebhookBodySchema,
    responses: {
      200: { description: 'Updated (the secret is kept and not returned)', schema: putWebhookResponseSchema },
      201: { description: 'Created, with its secret', schema: putWebhookResponseSchema },
    },
  },
  {
    method: 'get',
    path: '/v1/webhooks',
    operationId: 'listWebhooks',
    summary: "The tenant's endpoints (never their secrets)",
    tag,
    scope: 'webhooks:read',
    responses: { 200: { description: 'The endpoints', schema: webhookListSchema } },
  },
  {
    method: 'get',
    path: '/v1/webhooks/{webhookId}',
    operationId: 'getWebhook',
    summary: 'One endpoint (never its secret)',
    tag,
    scope: 'webhooks:read',
    params: webhookPathSchema,
    responses: { 200: { description: 'The endpoint', schema: webhookSchema }, ...notFound },
  },
  {
    method: 'delete',
    path: '/v1/webhooks/{webhookId}',
    operationId: 'deleteWebhook',
    summary: 'Remove an endpoint and its undelivered deliveries',
    tag,
    scope: 'webhooks:write',
    params: webhookPathSchema,
    responses: { 204: { description: 'Removed' }, ...notFound },
  },
  {
    method: 'post',
    path: '/v1/webhooks/{webhookId}/rotate-secret',
    operationId: 'rotateWebhookSecret',
    summary: 'Replace the signing secret; the new one is returned once and signs every later attempt',
    tag,
    scope: 'webhooks:write',
    params: webhookPathSchema,
    responses: { 200: { description: 'The new secret', schema: secretResponseSchema }, ...notFound },
  },
  {
    method: 'get',
    path: '/v1/webhooks/{webhookId}/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'Deliveries by status: `dead` (default) is the dead-letter list',
    tag,
    scope: 'webhooks:read',
    params: webhookPathSchema,
    query: deliveriesQuerySchema,
    responses: { 200: { description: 'A page of deliveries', schema: deliveryListSchema }, ...notFound },
  },
  {
    method: 'post',
    path: '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
    operationId: 'redeliverWebhook',
    summary: 'Put a dead delivery back in line (same delivery id)',
    tag,
    scope: 'webhooks:write',
    params: deliveryPathSchema,
    responses: {
      202: { description: 'Queued again', schema: z.object({ deliveryId: z.string() }) },
      404: { description: 'No such dead delivery' },
    },
  },
];
