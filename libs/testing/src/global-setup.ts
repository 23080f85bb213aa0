import pg from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin connection to the Postgres server; specs create their own databases on it. */
    databaseUrl: string;
    /** Kafka bootstrap servers, comma-separated. */
    kafkaBrokers: string;
    /** Unique per `npm test` run: suffix for topic and group names so runs never share them. */
    runId: string;
  }
}

/**
 * Integration and e2e tiers talk to the real Postgres and Kafka. When either cannot be reached the
 * run fails here, naming the service and how to start it, instead of skipping tests.
 */
export default async function setup(project: TestProject): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const kafkaBrokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  await checkPostgres(databaseUrl);
  await checkKafka(kafkaBrokers);
  project.provide('databaseUrl', databaseUrl);
  project.provide('kafkaBrokers', kafkaBrokers);
  project.provide('runId', `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`);
}

export async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(
      `Postgres is not reachable at ${url.replace(/:[^:@/]*@/, ':***@')} (${(error as Error).message}). ` +
        'Start it (Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set DATABASE_URL.',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function checkKafka(brokers: string): Promise<void> {
  const admin = new Kafka({
    clientId: 'agentledger-test-setup',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
    connectionTimeout: 3_000,
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (error) {
    throw new Error(
      `Kafka is not reachable at ${brokers} (${(error as Error).message}). Start it with \`npm run infra:up\` or set KAFKA_BROKERS.`,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
