export type StoredTeam = Readonly<{
  teamId: string;
  version: number;
  spec: unknown;
  specHash: string;
  updatedAt: string;
}>;

export type PutTeamResult = Readonly<{ version: number; specHash: string }>;

/** Team specs per tenant, versioned 1, 2, 3… A tenant never sees another tenant's teams. */
export type TeamRepository = Readonly<{
  get: (tenantId: string, teamId: string) => Promise<StoredTeam | undefined>;
  /**
   * Stores a new version unless the spec equals the current one. With an idempotency key, a repeat
   * returns the first call's version and hash (the caller compares the hash).
   */
  put: (
    tenantId: string,
    teamId: string,
    spec: unknown,
    options: Readonly<{ idempotencyKey?: string; actor?: string }>,
  ) => Promise<PutTeamResult>;
}>;
