import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { canonicalJson, hashOf, sha256Hex, sha256HexPortable } from './canonical.ts';

describe('SHA-256', () => {
  it('matches known vectors, in plain JavaScript and natively', () => {
    for (const hash of [sha256HexPortable, sha256Hex]) {
      expect(hash('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      expect(hash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    }
  });

  it('the plain JavaScript digest matches node:crypto on any text, multi-block and non-ASCII included', () =>
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(sha256HexPortable(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
      }),
      { numRuns: 200 },
    ));

  it('runs natively under Node (the plain JavaScript one is the browser fallback), with the same digest', () => {
    const text = `${'x'.repeat(100_000)}é`;
    expect(sha256Hex).not.toBe(sha256HexPortable);
    expect(sha256Hex(text)).toBe(sha256HexPortable(text));
  });

  it('falls back to the plain JavaScript digest where Node’s crypto is not at hand (a browser)', async () => {
    const { getBuiltinModule } = process;
    vi.resetModules();
    Object.defineProperty(process, 'getBuiltinModule', { value: undefined, configurable: true });
    try {
      const browser = await import('./canonical.ts');
      expect(browser.sha256Hex).toBe(browser.sha256HexPortable);
      expect(browser.hashOf({ a: 1 })).toBe(hashOf({ a: 1 }));
    } finally {
      Object.defineProperty(process, 'getBuiltinModule', { value: getBuiltinModule, configurable: true });
    }
  });
});

describe('canonicalJson', () => {
  it('sorts keys and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }], e: null })).toBe(
      '{"a":[{"c":"x"}],"b":1,"e":null}',
    );
    expect(hashOf({ x: 1, y: 2 })).toBe(hashOf({ y: 2, x: 1 }));
  });

  it('hashes as sha256: and the hex digest of the canonical text', () => {
    const digest = createHash('sha256').update('{"a":2,"b":[1,"é"]}', 'utf8').digest('hex');
    expect(hashOf({ b: [1, 'é'], a: 2 })).toBe(`sha256:${digest}`);
  });

  it('drops functions and symbols as members and writes them as null in arrays, like JSON.stringify', () => {
    const value = { f: () => 1, s: Symbol('s'), u: undefined, n: 1 };
    expect(canonicalJson(value)).toBe('{"n":1}');
    expect(canonicalJson([() => 1, Symbol('s'), undefined, 2])).toBe('[null,null,null,2]');
    expect(canonicalJson([{ toJSON: () => undefined }])).toBe('[null]');
  });

  it('writes boxed numbers, strings and booleans as their primitive values, like JSON.stringify', () => {
    const boxed = { n: new Number(1.5), s: new String('ab'), b: new Boolean(false) };
    expect(canonicalJson(boxed)).toBe('{"b":false,"n":1.5,"s":"ab"}');
    expect(canonicalJson(boxed)).toBe(JSON.stringify({ b: false, n: 1.5, s: 'ab' }));
  });

  it('orders the members of what toJSON returns, and refuses a boxed number that is not finite', () => {
    // A value whose toJSON builds an object: its members are ordered, not the value's own.
    expect(canonicalJson({ x: { toJSON: () => ({ b: 1, a: 2 }) } })).toBe('{"x":{"a":2,"b":1}}');
    expect(canonicalJson([{ toJSON: () => ({ d: [{ z: 0, y: 1 }], c: 3 }) }])).toBe(
      '[{"c":3,"d":[{"y":1,"z":0}]}]',
    );
    // Boxed as unboxed: a NaN or an infinity has no JSON number, in a box or not.
    expect(() => canonicalJson({ n: new Number(Number.NaN) })).toThrow(TypeError);
    expect(() => canonicalJson([new Number(Number.POSITIVE_INFINITY)])).toThrow(TypeError);
  });

  it('writes every kind of value alike inside an object that must be rebuilt (a member named like an array index)', () => {
    // No reordered copy can hold such an object (JavaScript lists index-like names first), so
    // it is written member by member: toJSON, boxes, holes in arrays and refusals as anywhere else.
    const value = {
      '2': 0,
      t: { toJSON: () => ({ b: 1, a: 2 }) },
      n: new Number(1.5),
      s: new String('x'),
      f: new Boolean(true),
      arr: [undefined, () => 1, 3],
      u: undefined,
    };
    expect(canonicalJson(value)).toBe(
      '{"2":0,"arr":[null,null,3],"f":true,"n":1.5,"s":"x","t":{"a":2,"b":1}}',
    );
    expect(() => canonicalJson({ '1': 1n })).toThrow('a BigInt has no JSON representation');
    expect(() => canonicalJson({ '1': [new Number(Number.NaN)] })).toThrow(TypeError);
  });

  it('keeps members named like array indexes in canonical order, at any depth', () => {
    // JavaScript lists such members first in any object, so no reordered copy can hold this order.
    expect(canonicalJson({ a: { b: 3, '10': 1, '9': 2 }, '2': [{ '01': 0, '1': 1 }] })).toBe(
      '{"2":[{"01":0,"1":1}],"a":{"10":1,"9":2,"b":3}}',
    );
  });

  it('keeps an own member named __proto__ as a member', () => {
    const parsed = JSON.parse('{"z":1,"__proto__":{"y":2,"x":1}}') as unknown;
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"x":1,"y":2},"z":1}');
  });

  it('writes values partly in canonical order right, changing none of them (copy on write)', () => {
    const cases: [unknown, string][] = [
      [{ a: 1, b: { d: 1, c: 2 } }, '{"a":1,"b":{"c":2,"d":1}}'],
      [{ a: [1, { y: 1, x: 2 }, 3], b: 'z' }, '{"a":[1,{"x":2,"y":1},3],"b":"z"}'],
      [{ a: 1, b: new Date(0), c: new Number(2) }, '{"a":1,"b":"1970-01-01T00:00:00.000Z","c":2}'],
      [{ a: undefined, b: () => 1, c: [undefined, 1] }, '{"c":[null,1]}'],
      [JSON.parse('{"__proto__":{"x":1},"a":{"c":1,"b":2}}'), '{"__proto__":{"x":1},"a":{"b":2,"c":1}}'],
      [[{ a: 1 }, { c: 1, b: { e: 1, d: 2 } }], '[{"a":1},{"b":{"d":2,"e":1},"c":1}]'],
    ];
    for (const [value, text] of cases) {
      const before = JSON.stringify(value);
      expect(canonicalJson(value)).toBe(text);
      expect(JSON.stringify(value)).toBe(before);
    }
  });

  it('writes any JSON value as sorted members joined the plain way would (property)', () => {
    // An oracle written differently: members sorted, each written with JSON.stringify's own text.
    const oracle = (value: unknown): string => {
      if (Array.isArray(value)) return `[${value.map(oracle).join(',')}]`;
      if (typeof value !== 'object' || value === null) return JSON.stringify(value);
      const record = value as Record<string, unknown>;
      return `{${Object.keys(record)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${oracle(record[key])}`)
        .join(',')}}`;
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(oracle(value));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses what has no JSON text, saying what', () => {
    expect(() => canonicalJson(undefined)).toThrow(new TypeError('value has no JSON representation'));
    expect(() => canonicalJson(() => 1)).toThrow(new TypeError('value has no JSON representation'));
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(
      new TypeError('NaN has no canonical JSON representation'),
    );
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(
      new TypeError('Infinity has no canonical JSON representation'),
    );
    expect(() => canonicalJson({ big: 10n })).toThrow(new TypeError('a BigInt has no JSON representation'));
  });
});

/** The published vectors of RFC 8785 (JSON Canonicalization Scheme), sections 3.2.2–3.2.3 and appendix B. */
describe('canonicalJson follows RFC 8785', () => {
  it('serialises the example of section 3.2.2', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts member names by UTF-16 code units (section 3.2.3)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  const fromBits = (hex: string): number => {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, BigInt(`0x${hex}`));
    return view.getFloat64(0);
  };

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['41b3de4355555555', '333333333.3333333'],
  ])('serialises the IEEE-754 value %s as %s (appendix B)', (bits, text) => {
    expect(canonicalJson(fromBits(bits))).toBe(text);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('refuses %s, which has no JSON text', (_name, value) => {
    expect(() => canonicalJson({ value })).toThrow(TypeError);
  });
});
