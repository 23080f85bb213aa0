import type { EventEnvelope } from './envelope.ts';

/**
 * Turns the data of a `type` event stored at `fromSchemaVersion` into its `fromSchemaVersion + 1`
 * shape. Upcasters chain (v1 → v2 → v3) and run on read, so events written years ago fold with
 * today's code; stored rows (and their hashes) never change.
 */
export type Upcaster = Readonly<{
  type: string;
  fromSchemaVersion: number;
  upcast: (data: never, event: EventEnvelope) => unknown;
}>;

export type Upcast = (event: EventEnvelope) => EventEnvelope;

/** Builds the read-side upcasting function; identity when no upcaster is registered. */
export const createUpcast = (upcasters: readonly Upcaster[] = []): Upcast => {
  if (upcasters.length === 0) return (event) => event;
  const byKey = new Map<string, Upcaster>();
  for (const upcaster of upcasters) {
    const key = `${upcaster.type}@${upcaster.fromSchemaVersion}`;
    if (byKey.has(key)) throw new Error(`two upcasters registered for ${key}`);
    byKey.set(key, upcaster);
  }
  return (event) => {
    let current = event;
    for (let upcaster = byKey.get(`${current.type}@${current.schemaVersion}`); upcaster !== undefined;) {
      const data = (upcaster.upcast as (data: unknown, event: EventEnvelope) => unknown)(
        current.data,
        current,
      );
      current = { ...current, data, schemaVersion: current.schemaVersion + 1 };
      upcaster = byKey.get(`${current.type}@${current.schemaVersion}`);
    }
    return current;
  };
};
