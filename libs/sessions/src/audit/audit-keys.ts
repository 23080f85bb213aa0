import { createCheckpointSigner, InvalidAuditKey, type CheckpointSigner } from './checkpoints.ts';

export type AuditKeyEnv = Readonly<{
  AGENTLEDGER_AUDIT_SIGNING_KEY?: string | undefined;
  AGENTLEDGER_AUDIT_PUBLIC_KEY?: string | undefined;
  AGENTLEDGER_AUDIT_KEY_ID?: string | undefined;
}>;

/** PEM text as given, or the contents of the file it names. */
const pemOrFile = (value: string, readFile: (path: string) => string): string =>
  value.includes('-----BEGIN') ? value : readFile(value);

/**
 * The checkpoint signer the settings describe: `AGENTLEDGER_AUDIT_SIGNING_KEY` signs (and
 * verifies with its derived public key), `AGENTLEDGER_AUDIT_PUBLIC_KEY` alone verifies only,
 * neither means checkpoints are off (`undefined`). Errors name the setting, never the key.
 */
export const readAuditSigner = (
  env: AuditKeyEnv,
  readFile: (path: string) => string,
): CheckpointSigner | undefined => {
  const keyId = env.AGENTLEDGER_AUDIT_KEY_ID?.trim() || 'default';
  const load = (name: string, value: string): string => {
    try {
      return pemOrFile(value, readFile);
    } catch {
      throw new InvalidAuditKey(`${name} is neither PEM text nor a readable file`);
    }
  };
  if (env.AGENTLEDGER_AUDIT_SIGNING_KEY) {
    return createCheckpointSigner({
      keyId,
      privateKeyPem: load('AGENTLEDGER_AUDIT_SIGNING_KEY', env.AGENTLEDGER_AUDIT_SIGNING_KEY),
    });
  }
  if (env.AGENTLEDGER_AUDIT_PUBLIC_KEY) {
    return createCheckpointSigner({
      keyId,
      publicKeyPem: load('AGENTLEDGER_AUDIT_PUBLIC_KEY', env.AGENTLEDGER_AUDIT_PUBLIC_KEY),
    });
  }
  return undefined;
};
