// npm run docs:config: writes docs/configuration.md from the apps' config schemas, built to dist/
// first (Node's type stripping cannot load the apps' decorators from source). The modules are
// loaded by URL so that type checks never need dist/ to exist.
import { writeFileSync } from 'node:fs';
import type { z } from 'zod';
import { renderConfigurationReference } from './config-reference.ts';
import { configSources } from './config-sources.ts';

const load = async (path: string, name: string): Promise<z.ZodObject> => {
  const module = (await import(new URL(`../${path}`, import.meta.url).href)) as Record<string, unknown>;
  return module[name] as z.ZodObject;
};

const sources = configSources({
  gateway: await load('apps/gateway/dist/config/gateway.config.js', 'gatewayConfigSchema'),
  orchestrator: await load('apps/orchestrator/dist/orchestrator.config.js', 'orchestratorConfigSchema'),
  standalone: await load('apps/standalone/dist/standalone.config.js', 'standaloneConfigSchema'),
});
writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigurationReference(sources));
console.log('docs/configuration.md written');
