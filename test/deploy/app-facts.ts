import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { Registry } from 'prom-client';
import type { z } from 'zod';
import { readModelEndpoints } from '@agentledger/agents';
import { MIGRATIONS_FOLDER } from '@agentledger/events/postgres';
import { AUDIT_UI_DIR } from '../../apps/gateway/src/audit/audit-page.ts';
import { GATEWAY_MIGRATIONS_FOLDER } from '../../apps/gateway/src/auth/postgres-api-key-store.ts';
import { gatewayConfigSchema } from '../../apps/gateway/src/config/gateway.config.ts';
import { PROTO_ROOT } from '../../apps/gateway/src/grpc/proto.ts';
import { HealthController } from '../../apps/gateway/src/health/health.controller.ts';
import { orchestratorConfigSchema } from '../../apps/orchestrator/src/orchestrator.config.ts';
import { OrchestratorHttpModule } from '../../apps/orchestrator/src/orchestrator-http.module.ts';

/** What the code of one app accepts and serves: the truth the deployment files are checked against. */
export type AppFacts = Readonly<{
  name: AppName;
  schema: z.ZodObject;
  /** The variable choosing the port of `/health/*` and `/metrics`. */
  httpPortVariable: string;
  /** Other listening ports, by variable. */
  otherPortVariables: readonly string[];
  /** HTTP paths the app serves without an API key (`/health/live`, `/health/ready`, `/metrics`). */
  servedPaths: ReadonlySet<string>;
  /** The built entry point, as package scripts and containers run it. */
  main: string;
}>;

export type AppName = 'gateway' | 'orchestrator';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const fromRoot = (path: string): string => relative(repoRoot, path).replace(/\/$/, '');

type ControllerClass = abstract new (...args: never[]) => unknown;

/** Routes of Nest controllers, read from their decorator metadata: `@Controller(prefix)` + `@Get(path)`. */
export const routesOf = (controllers: readonly ControllerClass[]): Set<string> => {
  const routes = new Set<string>();
  for (const controller of controllers) {
    const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '/');
    const prototype = controller.prototype as Record<string, unknown>;
    for (const key of Object.getOwnPropertyNames(prototype).filter((name) => name !== 'constructor')) {
      const handler = prototype[key];
      const path: unknown =
        typeof handler === 'function' ? Reflect.getMetadata(PATH_METADATA, handler) : undefined;
      if (typeof path === 'string') routes.add(`/${[prefix, path].join('/')}`.replace(/\/+/g, '/'));
    }
  }
  return routes;
};

const orchestratorControllers = (OrchestratorHttpModule.register(new Registry(), []).controllers ??
  []) as ControllerClass[];

export const apps: Readonly<Record<AppName, AppFacts>> = {
  gateway: {
    name: 'gateway',
    schema: gatewayConfigSchema,
    httpPortVariable: 'PORT',
    otherPortVariables: ['GRPC_PORT'],
    servedPaths: routesOf([HealthController]),
    main: 'apps/gateway/dist/main.js',
  },
  orchestrator: {
    name: 'orchestrator',
    schema: orchestratorConfigSchema,
    httpPortVariable: 'ORCHESTRATOR_PORT',
    otherPortVariables: [],
    servedPaths: routesOf(orchestratorControllers),
    main: 'apps/orchestrator/dist/main.js',
  },
};

/** The app a container runs, from the entry point in its command. */
export const appOfCommand = (command: readonly string[]): AppFacts | undefined =>
  Object.values(apps).find((app) => command.includes(app.main));

/**
 * Environment variables an app reads: its config schema's keys, plus the variables its model
 * endpoints take keys from (`OPENAI_API_KEY` for `default`, each endpoint's `apiKeyEnv`), which
 * depend on the configured `AGENTLEDGER_MODEL_ENDPOINTS`.
 */
export const knownVariables = (app: AppFacts, env: Readonly<Record<string, string>>): Set<string> => {
  const endpoints = readModelEndpoints(env, (path) => readFileSync(path, 'utf8'));
  const keyVariables =
    'endpoints' in endpoints
      ? [...endpoints.endpoints.values()].flatMap((e) => (e.key?.kind === 'env' ? [e.key.name] : []))
      : [];
  return new Set([...Object.keys(app.schema.shape), ...keyVariables]);
};

/** Folders and files the built apps read at run time, relative to the repository root. */
export const runtimeFiles: readonly string[] = [
  fromRoot(AUDIT_UI_DIR),
  fromRoot(MIGRATIONS_FOLDER),
  fromRoot(GATEWAY_MIGRATIONS_FOLDER),
  fromRoot(PROTO_ROOT),
];

/** The root package.json: scripts and workspaces. */
export const rootPackage = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as {
  scripts: Record<string, string>;
  workspaces: string[];
};

/**
 * The node command a package script ends with (`… && node <flags> <main>`), as an argv: what a
 * container must run for the same app.
 */
export const nodeCommandOfScript = (script: string): string[] | undefined => {
  const last = rootPackage.scripts[script]?.split('&&').at(-1)?.trim().split(/\s+/);
  return last?.[0] === 'node' ? last : undefined;
};
