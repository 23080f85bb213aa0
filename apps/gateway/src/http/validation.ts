import { z } from 'zod';
import { ValidationFailed, type FieldError, type FieldLocation } from '@agentledger/events';

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Ids chosen by clients (team, session, tool call): the pattern of docs/api.md, else 400. */
export const clientId = z
  .string()
  .regex(CLIENT_ID_PATTERN, { message: 'must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' });

/** Printable ASCII without spaces, up to 255 characters. */
export const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, { message: 'must be 1 to 255 printable ASCII characters without spaces' });

const escapePointer = (segment: PropertyKey): string =>
  String(segment).replaceAll('~', '~0').replaceAll('/', '~1');

const toFieldError = (issue: z.core.$ZodIssue, location: FieldLocation): FieldError => {
  const path = issue.path.map(String);
  const field = path.length === 0 ? `(${location})` : path.join('.');
  return location === 'body'
    ? { in: location, field, pointer: `#/${issue.path.map(escapePointer).join('/')}`, message: issue.message }
    : { in: location, field, message: issue.message };
};

/** Parses a request part with its zod schema; failure is a 400 naming every offending field. */
export const parseInput = <S extends z.ZodType>(
  schema: S,
  value: unknown,
  location: FieldLocation,
): z.output<S> => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationFailed(result.error.issues.map((issue) => toFieldError(issue, location)));
};
