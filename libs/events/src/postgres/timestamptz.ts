/** `timestamptz` text (ISO DateStyle, any session time zone) or a Date, as an ISO-8601 UTC string. */
export const timestamptzToIso = (value: unknown): string => {
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  // Fast path for a UTC session: '2026-01-02 03:04:05.6+00' → '2026-01-02T03:04:05.600Z'.
  if (text.length >= 22 && text.endsWith('+00') && text.charCodeAt(10) === 32) {
    const time = text.slice(11, -3);
    const fraction = time.length === 8 ? '.000' : `${time.slice(8)}000`.slice(0, 4);
    return `${text.slice(0, 10)}T${time.slice(0, 8)}${fraction}Z`;
  }
  return new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString();
};
