import {
  Conflict,
  NotFound,
  StreamTenantMismatch,
  StreamVersionConflict,
  Unprocessable,
} from '@agentledger/events';
import { BundleRejected } from '../audit/bundle.ts';
import { exportSessionBundle, importSessionBundle, type ImportedSession } from '../audit/session-transfer.ts';
import type { Caller, SessionContext } from '../session-context/index.ts';

/** Export and import of audit bundles (docs/operations.md, "Export and import"), tenant-scoped. */
export const sessionBundlesUseCase = ({ deps }: SessionContext) => {
  const { store, engine } = deps;

  /** The caller's session as a bundle; another tenant's session is not found. */
  const exportBundle = async (p: Caller, sessionId: string): Promise<string> => {
    const streamId = await engine.streamIdOf(p.tenantId, sessionId);
    const bundle = await exportSessionBundle(
      { store, ...(deps.audit === undefined ? {} : { checkpoints: deps.audit.checkpoints }) },
      p.tenantId,
      sessionId,
      streamId,
    );
    if (bundle === undefined) throw new NotFound('session', sessionId);
    return bundle;
  };

  /**
   * Verifies the bundle and stores the session into the caller's tenant: Unprocessable naming what
   * failed (nothing stored), Conflict when the tenant already has another session with that id,
   * the same answer again for the same bundle.
   */
  const importBundle = async (p: Caller, text: string): Promise<ImportedSession> => {
    try {
      return await importSessionBundle(
        {
          engine,
          checkSpec: async (spec) => {
            const check = await deps.parseTeamSpec(spec);
            return check.ok ? [] : check.issues;
          },
          ...(deps.audit === undefined ? {} : deps.audit),
        },
        text,
        p.tenantId,
      );
    } catch (error) {
      if (error instanceof BundleRejected)
        throw new Unprocessable(
          error.message,
          error.problems.map(({ field, message }) => ({ in: 'body', field, message })),
        );
      if (error instanceof StreamVersionConflict || error instanceof StreamTenantMismatch)
        throw new Conflict('This tenant already has another session with the bundle’s session id');
      throw error;
    }
  };

  return { exportBundle, importBundle };
};
