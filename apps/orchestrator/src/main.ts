import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  CLOSE_AFTER_DRAIN_MS,
  nestLogger,
  observeHttp,
  processShutdown,
} from '@agentledger/events/observability';
import { startTracing } from '@agentledger/telemetry/sdk';
import { composeDistributed } from './compose.ts';
import { parseOrchestratorConfig } from './orchestrator.config.ts';
import { OrchestratorHttpModule } from './orchestrator-http.module.ts';
import { OrchestratorModule } from './orchestrator.module.ts';

/**
 * `npm run start:orchestrator`: one replica of the distributed orchestrator (Postgres + Kafka).
 * The runtime (and its relay) starts when the app boots. SIGTERM/SIGINT: stop taking work, finish
 * in-flight steps up to SHUTDOWN_DEADLINE_MS, release leases, commit offsets, leave the group, stop
 * the relay, close the bus and store, exit 0; still not done SHUTDOWN_DEADLINE_MS + 15 s after the
 * signal (a broker that does not answer), exit 1 naming the stage (what a SIGKILL would leave).
 */
const main = async (): Promise<void> => {
  const config = parseOrchestratorConfig(process.env);
  const tracing = startTracing('agentledger-orchestrator', config);
  const composed = await composeDistributed(config, process.env);

  @Module({
    imports: [
      OrchestratorModule.register(composed.runtime),
      OrchestratorHttpModule.register(composed.runtime.metrics, composed.readiness),
    ],
  })
  class OrchestratorAppModule {}

  const { root, context } = composed.logging;
  const app = await NestFactory.create<NestFastifyApplication>(OrchestratorAppModule, new FastifyAdapter(), {
    logger: nestLogger(root),
  });
  observeHttp(app.getHttpAdapter().getInstance(), {
    registry: composed.runtime.metrics,
    logger: root,
    context,
  });
  await app.listen(config.ORCHESTRATOR_PORT, config.HOST);
  root.info({ url: await app.getUrl() }, 'listening');

  const shutdown = processShutdown({
    stages: [
      {
        name: 'the runtime (drain, leases, consumer group, relay) and the HTTP server',
        run: () => app.close(),
      },
      { name: 'the bus and the store', run: () => composed.close() },
      { name: 'tracing', run: () => tracing.shutdown() },
    ],
    // The drain's own deadline, then leaving the group and closing (under 2 s when idle).
    deadlineMs: config.SHUTDOWN_DEADLINE_MS + CLOSE_AFTER_DRAIN_MS,
    info: (message) => root.info(message),
    error: (message, error) => root.error({ err: error }, message),
  });
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
};

main().catch((error: unknown) => {
  process.stderr.write(
    `orchestrator failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
