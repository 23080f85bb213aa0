import { describe, expect, it } from 'vitest';
import { checkKafka, checkPostgres } from '../../libs/testing/src/global-setup.ts';

// The int and e2e tiers must fail, naming the service, when Postgres or Kafka is unreachable.
describe('service checks of the test setup', () => {
  it('fail naming Postgres and how to start it when no server answers', async () => {
    await expect(checkPostgres('postgres://postgres@127.0.0.1:1/postgres')).rejects.toThrow(
      /Postgres is not reachable at postgres:\/\/postgres@127\.0\.0\.1:1\/postgres.*pg_ctlcluster/,
    );
  });

  it('fail naming Kafka and how to start it when no broker answers', async () => {
    await expect(checkKafka('127.0.0.1:1')).rejects.toThrow(
      /Kafka is not reachable at 127\.0\.0\.1:1.*infra:up/,
    );
  });
});
