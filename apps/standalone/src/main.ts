/**
 * The embedded composition root. The gateway (REST/gRPC) and the orchestrator are not built yet;
 * until they are, this reports what exists and exits.
 */
const main = (): void => {
  console.log(`AgentLedger (embedded mode) on Node ${process.version}`);
  console.log('Ready: toolchain, Postgres and Kafka services for tests (npm test).');
  console.log('Coming: event store (libs/events), agents (libs/agents), orchestrator and gateway (apps/).');
};

main();
