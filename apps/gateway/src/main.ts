import { processShutdown } from '@agentledger/events/observability';
import { startTracing } from '@agentledger/telemetry/sdk';
import { parseGatewayConfig } from './config/gateway.config.ts';
import { composeDistributedGateway } from './compose.ts';
import { GrpcGateway } from './grpc/grpc-gateway.ts';
import { createGatewayApp, listenGateway } from './http/gateway-app.ts';

/**
 * `npm run start:gateway`: the gateway alone (distributed mode), against Postgres. The only place
 * the gateway reads the environment.
 */
const main = async (): Promise<void> => {
  const config = parseGatewayConfig(process.env);
  const tracing = startTracing('agentledger-gateway', config);
  const composed = await composeDistributedGateway(config, process.env);
  const app = await createGatewayApp(composed.module, {
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    logging: composed.logging,
  });
  await listenGateway(app, { port: config.PORT, host: config.HOST });
  const address = app.getHttpServer().address();
  const url = `http://${config.HOST}:${typeof address === 'object' && address !== null ? address.port : config.PORT}`;
  composed.logging.root.info(
    { url, grpc: `${config.HOST}:${app.get(GrpcGateway).port()}` },
    `AgentLedger gateway: ${url} (docs ${url}/docs, audit ${url}/audit, gRPC ${config.HOST}:${app.get(GrpcGateway).port()})`,
  );
  const { root } = composed.logging;
  const shutdown = processShutdown({
    stages: [
      { name: 'the HTTP and gRPC servers', run: () => app.close() },
      { name: 'the store and the bus', run: () => composed.close() },
      { name: 'tracing', run: () => tracing.shutdown() },
    ],
    // Under the supervisor's grace period (30 s in deploy/k8s): the log names a stage that hangs.
    deadlineMs: 25_000,
    info: (message) => root.info(message),
    error: (message, error) => root.error({ err: error }, message),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => shutdown(signal));
};

await main().catch((error: unknown) => {
  // a bad configuration or an unreachable database: say which, and exit non-zero
  console.error(
    `AgentLedger gateway failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
