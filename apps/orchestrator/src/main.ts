import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { startTracing } from '@agentledger/telemetry/sdk';
import { composeDistributed } from './compose.ts';
import { parseOrchestratorConfig } from './orchestrator.config.ts';
import { OrchestratorHttpModule } from './orchestrator-http.module.ts';
import { OrchestratorModule } from './orchestrator.module.ts';

/**
 * `npm run start:orchestrator`: one replica of the distributed orchestrator (Postgres + Kafka).
 * SIGTERM/SIGINT: stop taking work, finish in-flight steps up to SHUTDOWN_DEADLINE_MS, release
 * leases, commit offsets, leave the group, close the relay, bus and store, exit 0.
 */
const main = async (): Promise<void> => {
  const config = parseOrchestratorConfig(process.env);
  const tracing = startTracing('agentledger-orchestrator', config);
  const runtime = await composeDistributed(config, process.env);

  @Module({
    imports: [
      OrchestratorModule.register(runtime.orchestrator),
      OrchestratorHttpModule.register(runtime.registry, runtime.readiness),
    ],
  })
  class OrchestratorAppModule {}

  const app = await NestFactory.create<NestFastifyApplication>(OrchestratorAppModule, new FastifyAdapter(), {
    logger: ['error', 'warn'],
  });
  runtime.relay.start();
  await app.listen(config.ORCHESTRATOR_PORT, config.HOST);
  process.stderr.write(
    `${JSON.stringify({ level: 'info', app: 'orchestrator', replica: config.REPLICA_ID, message: 'listening', url: await app.getUrl() })}\n`,
  );

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    process.stderr.write(
      `${JSON.stringify({ level: 'info', replica: config.REPLICA_ID, message: `${signal}: shutting down` })}\n`,
    );
    app
      .close()
      .then(() => runtime.close())
      .then(() => tracing.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(
            `${JSON.stringify({ level: 'error', message: `shutdown failed: ${String(error)}` })}\n`,
          );
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
};

main().catch((error: unknown) => {
  process.stderr.write(
    `orchestrator failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
