/**
 * The one canonical JSON and hash helper of the repository. Free of Node imports (the audit page
 * bundles it for the browser): the agent core uses it for spec and model-context hashes, which must
 * be identical on every replica and in every replay; the event store for the hash chain.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/**
 * SHA-256 of the UTF-8 encoding of `text`, as lowercase hex, in plain JavaScript: what
 * {@link sha256Hex} runs where Node's `crypto` is not at hand (a browser).
 */
export const sha256HexPortable = (text: string): string => {
  const bytes = new TextEncoder().encode(text);
  const bitLength = bytes.length * 8;
  const paddedLength = Math.ceil((bytes.length + 9) / 64) * 64;
  const data = new Uint8Array(paddedLength);
  data.set(bytes);
  data[bytes.length] = 0x80;
  const view = new DataView(data.buffer);
  view.setUint32(paddedLength - 8, Math.floor(bitLength / 0x100000000));
  view.setUint32(paddedLength - 4, bitLength >>> 0);
  let h0 = 0x6a09e667 | 0;
  let h1 = 0xbb67ae85 | 0;
  let h2 = 0x3c6ef372 | 0;
  let h3 = 0xa54ff53a | 0;
  let h4 = 0x510e527f | 0;
  let h5 = 0x9b05688c | 0;
  let h6 = 0x1f83d9ab | 0;
  let h7 = 0x5be0cd19 | 0;
  const w = new Int32Array(64);
  for (let offset = 0; offset < paddedLength; offset += 64) {
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] = (data[j]! << 24) | (data[j + 1]! << 16) | (data[j + 2]! << 8) | data[j + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    let f = h5;
    let g = h6;
    let h = h7;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  return [h0, h1, h2, h3, h4, h5, h6, h7].map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('');
};

type NativeHash = Readonly<{
  createHash: (algorithm: 'sha256') => {
    update: (text: string, encoding: 'utf8') => { digest: (encoding: 'hex') => string };
  };
}>;

/** Node's `crypto`, taken without an import (so bundles for the browser need no shim); absent elsewhere. */
const nativeHash = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NativeHash | undefined;

/**
 * SHA-256 of the UTF-8 encoding of `text`, as lowercase hex: Node's native hash where it runs (the
 * same digest, several times faster: every append and every model call's context hash goes
 * through here), {@link sha256HexPortable} elsewhere.
 */
export const sha256Hex: (text: string) => string =
  nativeHash === undefined
    ? sha256HexPortable
    : (text) => nativeHash.createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Canonical JSON per RFC 8785 (JCS): no whitespace, object members sorted by the UTF-16 code units
 * of their names at every depth, strings and numbers serialised as ECMAScript's `JSON.stringify`
 * does (which is what JCS specifies). Like `JSON.stringify`, a `toJSON` is honoured, `undefined`
 * members are dropped and `undefined` in arrays becomes `null`; unlike it, non-finite numbers and
 * BigInts are refused (JCS has no text for them). Used for event hashes, spec hashes, model-context
 * hashes and checkpoints alike: one text per value, everywhere.
 */
export const canonicalJson = (value: unknown): string => {
  // The engine's JSON.stringify writes a copy whose members are in canonical order: several times
  // faster than writing the text here, member by member. A member named like an array index
  // cannot be put in order in an object (JavaScript lists those first); the text is then written
  // here, as it would be for any value.
  const ordered = inCanonicalOrder(value);
  const text = ordered === IN_ORDER_IMPOSSIBLE ? serialize(value) : JSON.stringify(ordered);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
};

const IN_ORDER_IMPOSSIBLE = Symbol('a member named like an array index');
const DIGITS = /^\d+$/;

const refuseNumber = (value: number): number => {
  if (!Number.isFinite(value)) throw new TypeError(`${value} has no canonical JSON representation`);
  return value;
};

/**
 * `value` as `JSON.stringify` should see it to write its canonical text: `toJSON` and boxed
 * primitives resolved, objects with their members in canonical order (what `JSON.stringify`
 * keeps: it drops or nulls what {@link serialize} does), what has no canonical text refused.
 * {@link IN_ORDER_IMPOSSIBLE} where a member's name is all digits. Copy on write: an array or
 * object that is already as `JSON.stringify` should see it (members in order, none changed) is
 * returned as it is, so a value built in canonical order is serialised without a copy.
 */
const inCanonicalOrder = (value: unknown): unknown => {
  if (typeof value === 'number') return refuseNumber(value);
  if (typeof value === 'bigint') throw new TypeError('a BigInt has no JSON representation');
  if (typeof value !== 'object' || value === null) return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return inCanonicalOrder((value as { toJSON: () => unknown }).toJSON());
  if (value instanceof Number || value instanceof String || value instanceof Boolean)
    return inCanonicalOrder(value.valueOf());
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index += 1) {
      const original: unknown = value[index];
      const item = inCanonicalOrder(original);
      if (item === IN_ORDER_IMPOSSIBLE) return IN_ORDER_IMPOSSIBLE;
      if (copy === undefined && item !== original) copy = value.slice(0, index);
      if (copy !== undefined) copy[index] = item;
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let ordered = true;
  for (let index = 1; index < keys.length && ordered; index += 1) ordered = keys[index - 1]! < keys[index]!;
  if (!ordered) keys.sort();
  let copy: Record<string, unknown> | undefined = ordered ? undefined : {};
  for (let index = 0; index < keys.length; index += 1) {
    const key = keys[index]!;
    const first = key.charCodeAt(0);
    if (first >= 48 && first <= 57 && DIGITS.test(key)) return IN_ORDER_IMPOSSIBLE;
    const original = record[key];
    const member = inCanonicalOrder(original);
    if (member === IN_ORDER_IMPOSSIBLE) return IN_ORDER_IMPOSSIBLE;
    if (copy === undefined) {
      if (member === original) continue;
      // The first changed member: the ones before it, all unchanged and in order, are copied.
      copy = {};
      for (let before = 0; before < index; before += 1) define(copy, keys[before]!, record[keys[before]!]);
    }
    define(copy, key, member);
  }
  return copy ?? value;
};

/** Sets a member; one named __proto__ (JSON.parse makes them) stays a member, not a prototype. */
const define = (target: Record<string, unknown>, key: string, member: unknown): void => {
  if (key === '__proto__')
    Object.defineProperty(target, key, {
      value: member,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else target[key] = member;
};

/** The JSON text of `value`, or undefined where it has none (`undefined`, a function, a symbol). */
const serialize = (value: unknown): string | undefined => {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return JSON.stringify(refuseNumber(value));
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? 'null' : serializeObject(value);
    case 'bigint':
      throw new TypeError('a BigInt has no JSON representation');
    default:
      return undefined;
  }
};

const serializeObject = (value: object): string | undefined => {
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return serialize((value as { toJSON: () => unknown }).toJSON());
  if (value instanceof Number || value instanceof String || value instanceof Boolean)
    return serialize(value.valueOf());
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index += 1)
      out += `${index === 0 ? '' : ','}${serialize(value[index]) ?? 'null'}`;
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '';
  for (const key of Object.keys(record).sort()) {
    const member = serialize(record[key]);
    if (member !== undefined) out += `${out === '' ? '' : ','}${JSON.stringify(key)}:${member}`;
  }
  return `{${out}}`;
};

/** `sha256:<hex>` of the canonical JSON of `value`. */
export const hashOf = (value: unknown): string => `sha256:${sha256Hex(canonicalJson(value))}`;
