import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { gatewayConfigSchema } from '../apps/gateway/src/config/gateway.config.ts';
import { orchestratorConfigSchema } from '../apps/orchestrator/src/orchestrator.config.ts';
import { standaloneConfigSchema } from '../apps/standalone/src/standalone.config.ts';
import { renderConfigurationReference } from './config-reference.ts';
import { configSources } from './config-sources.ts';

// CI checks that docs/configuration.md is what `npm run docs:config` writes from the schemas today.
describe('docs/configuration.md', () => {
  it('is current with the config schemas (else run npm run docs:config)', () => {
    const sources = configSources({
      gateway: gatewayConfigSchema,
      orchestrator: orchestratorConfigSchema,
      standalone: standaloneConfigSchema,
    });
    const checkedIn = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    expect(checkedIn).toBe(renderConfigurationReference(sources));
  });

  it('lists every variable with its type, default and meaning, and which process reads it', () => {
    const schema = z.object({
      PORT: z.coerce.number().int().min(0).max(65_535).default(3000).describe('REST port.'),
      LEVEL: z.enum(['info', 'debug']).default('info'),
      KEY: z.string().optional().describe('a | pipe'),
    });
    const doc = renderConfigurationReference([
      { app: 'one', mode: 'distributed', command: 'npm run one', schema },
      { app: 'two', mode: 'embedded', command: 'npm start', schema: schema.pick({ PORT: true }) },
    ]);
    expect(doc).toContain('| `KEY` | ✓ |  |');
    expect(doc).toContain('| `PORT` | ✓ | ✓ |');
    expect(doc).toContain('## one (distributed: `npm run one`)');
    expect(doc).toContain('| `PORT` | integer ≥ 0, ≤ 65535 | `3000` | REST port. |');
    expect(doc).toContain('| `LEVEL` | one of `info`, `debug` | `info` |  |');
    expect(doc).toContain('| `KEY` | string | unset | a \\| pipe |');
  });
});
