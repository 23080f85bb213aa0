import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createGatewayApp,
  listenGateway,
  GrpcGateway,
  SCOPES,
  TEAMS_SERVICE,
  type TeamsService,
} from '@agentledger/gateway';
import { endpointKeyValues } from '@agentledger/agents';
import { CLOSE_AFTER_DRAIN_MS, createLogging, processShutdown } from '@agentledger/events/observability';
import { readFileSync } from 'node:fs';
import { startTracing } from '@agentledger/telemetry/sdk';
import { composeStandalone } from './compose.ts';
import { parseStandaloneConfig } from './standalone.config.ts';

/** The banner a person reads at `npm start` (not a log line: it carries the development key). */
const log = (message: string): void => void process.stdout.write(`${message}\n`);

/**
 * `npm start`: AgentLedger embedded — gateway (REST + gRPC), orchestrator and relay in one process
 * on PGlite (data under DATA_DIR, reused by the next start) and the in-process bus.
 */
const main = async (): Promise<void> => {
  const config = parseStandaloneConfig(process.env);
  const tracing = startTracing('agentledger', config);
  const logging = createLogging(config, { app: 'standalone', replica: 'standalone' }, [
    ...config.AGENTLEDGER_API_KEYS.map((seed) => seed.key),
    ...endpointKeyValues({
      endpoints: config.MODEL_ENDPOINTS,
      env: process.env,
      readKeyFile: (path) => readFileSync(path, 'utf8'),
    }),
  ]);
  const logger = logging.port;
  const standalone = await composeStandalone(config, process.env, logging);
  const app: NestFastifyApplication = await createGatewayApp(standalone.module, {
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    logging,
  });
  await listenGateway(app, { port: config.PORT, host: config.HOST });

  const teams = app.get<TeamsService>(TEAMS_SERVICE, { strict: false });
  const principal = { tenantId: config.DEV_TENANT, keyId: 'standalone', scopes: SCOPES };
  const loaded: string[] = [];
  for (const example of standalone.examples) {
    try {
      await teams.putTeam(principal, { teamId: example.teamId, spec: example.spec });
      loaded.push(example.teamId);
    } catch (error) {
      logger.warn(
        `example ${example.teamId} not loaded: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  // Before the banner: whoever reads it may stop the product at once (a test, a script).
  const stop = processShutdown({
    stages: [
      { name: 'the servers and the runtime', run: () => app.close() },
      { name: 'the store', run: () => standalone.close() },
      { name: 'tracing', run: () => tracing.shutdown() },
    ],
    // The runtime's drain (SHUTDOWN_DEADLINE_MS), then closing: a stage that hangs is named.
    deadlineMs: config.SHUTDOWN_DEADLINE_MS + CLOSE_AFTER_DRAIN_MS,
    info: (message) => log(message),
    error: (message, error) =>
      void process.stderr.write(`${message}${error === undefined ? '' : `: ${String(error)}`}\n`),
  });
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
  const url = `http://${config.HOST}:${port}`;
  log(`AgentLedger is running (embedded: PGlite in ${config.DATA_DIR}, in-process bus)`);
  log(`  REST     ${url}`);
  log(`  docs     ${url}/docs`);
  log(`  audit    ${url}/audit`);
  log(`  gRPC     ${config.HOST}:${app.get(GrpcGateway, { strict: false }).port() ?? 'off'}`);
  log(`  API key  ${standalone.devApiKey}   (tenant ${config.DEV_TENANT}; Authorization: Bearer <key>)`);
  log(`  model    ${standalone.modelMode}`);
  log(`  teams    ${loaded.length > 0 ? loaded.join(', ') : 'none loaded'} (from ${config.EXAMPLES_DIR}/)`);
  log(`Try it: npm run demo   (Ctrl+C stops)`);
};

main().catch((error: unknown) => {
  process.stderr.write(
    `AgentLedger failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
