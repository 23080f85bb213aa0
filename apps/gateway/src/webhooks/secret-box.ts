import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Seals endpoint secrets for storage; `open` returns the `whsec_…` value to sign with. */
export type SecretBox = Readonly<{
  seal: (secret: string, owner: string) => string;
  open: (stored: string, owner: string) => string;
}>;

const SEALED = 'sealed:v1:';

/** Secrets stored as given (no operator key configured). Reads sealed ones as an error. */
export const plainSecrets: SecretBox = {
  seal: (secret) => secret,
  open: (stored) => {
    if (stored.startsWith(SEALED))
      throw new Error('the webhook secret is sealed and no WEBHOOK_SECRETS_KEY is set');
    return stored;
  },
};

/**
 * AES-256-GCM with the operator's 32-byte key. `owner` (tenant and endpoint) is authenticated
 * data: a sealed secret copied to another endpoint's row does not open. Secrets stored before the
 * key was set (`whsec_…`) still open, and are sealed on their next rotation.
 */
export const createSecretBox = (key: Buffer): SecretBox => {
  if (key.length !== 32) throw new Error('WEBHOOK_SECRETS_KEY must be 32 bytes (base64)');
  return {
    seal: (secret, owner) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(owner));
      const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return `${SEALED}${[iv, cipher.getAuthTag(), sealed].map((b) => b.toString('base64')).join(':')}`;
    },
    open: (stored, owner) => {
      if (!stored.startsWith(SEALED)) return stored;
      const [iv, tag, sealed] = stored
        .slice(SEALED.length)
        .split(':')
        .map((p) => Buffer.from(p, 'base64'));
      const decipher = createDecipheriv('aes-256-gcm', key, iv!).setAAD(Buffer.from(owner)).setAuthTag(tag!);
      return Buffer.concat([decipher.update(sealed!), decipher.final()]).toString('utf8');
    },
  };
};

/** The box for the operator's setting: base64 of 32 bytes, or a file holding it; unset: plain. */
export const readSecretBox = (value: string | undefined, readFile: (path: string) => string): SecretBox => {
  if (value === undefined || value.trim() === '') return plainSecrets;
  const text = /^[A-Za-z0-9+/]{43}=$/.test(value.trim()) ? value.trim() : readFile(value.trim()).trim();
  return createSecretBox(Buffer.from(text, 'base64'));
};
