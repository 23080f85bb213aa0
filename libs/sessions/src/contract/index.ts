import { afterAll, beforeAll, describe } from 'vitest';
import type { SessionIndexHarness } from './harness.ts';
import { sessionLeasesContract } from './session-leases.contract.ts';
import { sessionReadModelContract } from './session-read-model.contract.ts';
import { sessionRecoveryContract } from './session-recovery.contract.ts';
import { tenantUsageContract } from './tenant-usage.contract.ts';
import { toolAttemptsContract } from './tool-attempts.contract.ts';

export type { SessionIndexHarness } from './harness.ts';
export {
  sessionLeasesContract,
  sessionReadModelContract,
  sessionRecoveryContract,
  tenantUsageContract,
  toolAttemptsContract,
};

/**
 * Every role contract on one adapter that implements them all (memory, Postgres, PGlite), over
 * one harness opened for the file.
 */
export const sessionIndexContracts = <Tx>(
  name: string,
  open: () => Promise<SessionIndexHarness<Tx>>,
  { transactional }: Readonly<{ transactional: boolean }>,
): void => {
  // Generous limits: PGlite starts in seconds, and CI machines are busy.
  describe(`sessions index contracts: ${name}`, { timeout: 30_000 }, () => {
    let harness: SessionIndexHarness | undefined;
    beforeAll(async () => {
      // The cases only pass to `project` the transaction the adapter's own store hands them.
      harness = (await open()) as unknown as SessionIndexHarness;
    }, 120_000);
    afterAll(async () => {
      await harness?.close();
    }, 60_000);
    const ref = (): SessionIndexHarness => {
      if (!harness) throw new Error('the harness did not open');
      return harness;
    };
    sessionReadModelContract(ref, { transactional });
    sessionLeasesContract(ref);
    sessionRecoveryContract(ref);
    tenantUsageContract(ref, { transactional });
    toolAttemptsContract(ref);
  });
};
