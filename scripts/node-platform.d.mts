export type LockEntry = Readonly<{
  optionalDependencies?: Readonly<Record<string, string>>;
  version?: string;
  os?: string | readonly string[];
  cpu?: string | readonly string[];
  bin?: Readonly<Record<string, string>>;
}>;
export type NodePackageChoice =
  Readonly<{ ok: true; name: string; version: string }> | Readonly<{ ok: false; message: string }>;
export function nodePackageFor(
  lock: Readonly<{ packages: Readonly<Record<string, LockEntry>> }>,
  target: Readonly<{ platform: string; arch: string }>,
): NodePackageChoice;
