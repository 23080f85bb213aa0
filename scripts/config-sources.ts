import type { z } from 'zod';
import type { ConfigSource } from './config-reference.ts';

/** The three processes' config schemas, in the order the reference lists them. */
export const configSources = (
  schemas: Readonly<{ gateway: z.ZodObject; orchestrator: z.ZodObject; standalone: z.ZodObject }>,
): ConfigSource[] => [
  { app: 'gateway', mode: 'distributed', command: 'npm run start:gateway', schema: schemas.gateway },
  {
    app: 'orchestrator',
    mode: 'distributed',
    command: 'npm run start:orchestrator',
    schema: schemas.orchestrator,
  },
  { app: 'standalone', mode: 'embedded', command: 'npm start', schema: schemas.standalone },
];
