import { z } from 'zod';
import { idempotencyKey } from './validation.ts';

/** Headers of a mutating call: an optional `Idempotency-Key`. */
export const mutationHeadersSchema = z.looseObject({ 'idempotency-key': idempotencyKey.optional() });
