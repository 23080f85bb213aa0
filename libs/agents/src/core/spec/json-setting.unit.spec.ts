import { describe, expect, it } from 'vitest';
import { caught } from '@agentledger/testing';
import { readJsonSetting } from './json-setting.ts';

class Refused extends Error {}
const fail = (message: string): Error => new Refused(message);
/** A file reader over `files`, recording every path it is asked for. */
const reader = (files: Readonly<Record<string, string>>) => {
  const asked: string[] = [];
  const read = (path: string): string => {
    asked.push(path);
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT: ${path}`);
    return text;
  };
  return { asked, read };
};
const refusal = (raw: string, files: Readonly<Record<string, string>> = {}): string => {
  const error = caught(() => readJsonSetting('SETTING', raw, reader(files).read, fail));
  expect(error).toBeInstanceOf(Refused);
  return (error as Error).message;
};

describe('readJsonSetting', () => {
  it('parses a JSON object given inline, surrounding blanks and all, without reading a file', () => {
    const { asked, read } = reader({});
    expect(readJsonSetting('SETTING', '\n  {"a": [1, 2]}  \n', read, fail)).toStrictEqual({ a: [1, 2] });
    expect(asked).toStrictEqual([]);
  });

  it('reads the file a path names, the blanks around the path trimmed', () => {
    const { asked, read } = reader({ '/etc/setting.json': ' {"b": true}\n' });
    expect(readJsonSetting('SETTING', '  /etc/setting.json\n', read, fail)).toStrictEqual({ b: true });
    expect(asked).toStrictEqual(['/etc/setting.json']);
  });

  it('names the variable, never the value, when the file cannot be read or the JSON is bad', () => {
    expect(refusal('/no/such/file')).toBe('SETTING: cannot read the file it names');
    expect(refusal('{"a": ')).toBe('SETTING: not valid JSON (a JSON object or a file path)');
    expect(refusal('/etc/bad.json', { '/etc/bad.json': 'not json' })).toBe(
      'SETTING: not valid JSON (a JSON object or a file path)',
    );
  });
});
