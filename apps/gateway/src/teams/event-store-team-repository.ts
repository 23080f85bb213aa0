import type { EventEnvelope, EventStore } from '@agentledger/events';
import { teamSpecHash } from './team-spec.ts';
import type { StoredTeam, TeamRepository } from './team-repository.port.ts';

export const TEAM_SPEC_PUT = 'TeamSpecPut';

type TeamSpecPutData = Readonly<{ teamId: string; spec: unknown; specHash: string }>;

/** Team streams are per tenant (`team-<tenantId>/<teamId>`): two tenants may both have a "support" team. */
export const teamStreamId = (tenantId: string, teamId: string): string => `team-${tenantId}/${teamId}`;

const toTeam = (event: EventEnvelope): StoredTeam => {
  const data = event.data as TeamSpecPutData;
  return {
    teamId: data.teamId,
    version: event.version,
    spec: data.spec,
    specHash: data.specHash,
    updatedAt: event.recordedAt,
  };
};

/**
 * Team specs as event streams (`TeamSpecPut`): every version is kept, hash-chained and audited like
 * sessions, and the repository works on every event store adapter without a table of its own.
 */
export const createEventStoreTeamRepository = (store: EventStore): TeamRepository => {
  const readHead = async (tenantId: string, teamId: string): Promise<StoredTeam | undefined> => {
    const events = await store.readStream(teamStreamId(tenantId, teamId), { tenantId });
    const last = events.at(-1);
    return last === undefined ? undefined : toTeam(last);
  };

  return {
    get: readHead,
    put: async (tenantId, teamId, spec, { idempotencyKey, actor }) => {
      const specHash = teamSpecHash(spec);
      const current = await readHead(tenantId, teamId);
      if (current?.specHash === specHash) return { version: current.version, specHash };
      const data: TeamSpecPutData = { teamId, spec, specHash };
      const result = await store.append(teamStreamId(tenantId, teamId), [{ type: TEAM_SPEC_PUT, data }], {
        tenantId,
        expectedVersion: 'any',
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        metadata: {
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
          ...(actor === undefined ? {} : { actor }),
        },
      });
      const version = result.versions[0] ?? result.nextExpectedVersion;
      if (!result.duplicate) return { version, specHash };
      const [first] = await store.readStream(teamStreamId(tenantId, teamId), {
        tenantId,
        fromVersion: version,
        toVersion: version,
      });
      return { version, specHash: first === undefined ? '' : toTeam(first).specHash };
    },
  };
};
