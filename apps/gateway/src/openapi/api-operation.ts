import type { z } from 'zod';
import type { Scope } from '../auth/api-key.ts';

export type ApiResponse = Readonly<{ description: string; schema?: z.ZodType; contentType?: string }>;

/**
 * One REST operation as documented: the same zod schemas the controller validates with, so the
 * OpenAPI document cannot drift from what the gateway accepts.
 */
export type ApiOperation = Readonly<{
  method: 'get' | 'put' | 'post' | 'delete';
  /** OpenAPI form: `/v1/teams/{teamId}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** Absent: no API key needed. */
  scope?: Scope;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  body?: z.ZodType;
  /** Default application/json. */
  bodyContentType?: string;
  responses: Readonly<Record<number, ApiResponse>>;
}>;
