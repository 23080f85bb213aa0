import { z } from 'zod';
import type { ApiOperation } from '../openapi/api-operation.ts';

const readinessSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.record(z.string(), z.string()),
});

export const healthOperations: readonly ApiOperation[] = [
  {
    method: 'get',
    path: '/health/live',
    operationId: 'live',
    summary: 'Liveness: the process answers',
    tag: 'operations',
    responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
  },
  {
    method: 'get',
    path: '/health/ready',
    operationId: 'ready',
    summary: 'Readiness: every dependency check passes',
    tag: 'operations',
    responses: {
      200: { description: 'Ready', schema: readinessSchema },
      503: { description: 'Not ready: the failing checks are named', schema: readinessSchema },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tag: 'operations',
    responses: {
      200: { description: 'Prometheus text format', schema: z.string(), contentType: 'text/plain' },
    },
  },
];
