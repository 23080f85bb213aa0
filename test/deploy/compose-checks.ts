import { apps } from './app-facts.ts';
import { appRunProblems, type ProbeUse } from './app-run-checks.ts';

type ComposeService = Readonly<{
  build?: Readonly<{ dockerfile?: string }>;
  command?: readonly string[];
  environment?: Readonly<Record<string, string>>;
  ports?: readonly string[];
  healthcheck?: Readonly<{ test?: readonly string[] }>;
  stop_grace_period?: string;
  depends_on?: Readonly<Record<string, unknown>>;
}>;

/** A compose file as read from YAML (merge keys resolved). */
export type ComposeFile = Readonly<{ services: Readonly<Record<string, ComposeService>> }>;

/** `${NAME:-default}` → default, `${NAME}` → '': the value with the calling shell's variables unset. */
const interpolate = (value: string): string =>
  value.replace(
    /\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g,
    (_, fallback: string | undefined) => fallback ?? '',
  );

/** `1m30s`, `40s` → seconds (compose durations); compose's default is 10 s. */
const seconds = (duration: string | undefined): number => {
  if (duration === undefined) return 10;
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(h|m|s|ms)/g)];
  const unit = { h: 3600, m: 60, s: 1, ms: 0.001 } as const;
  return parts.reduce((sum, [, amount, u]) => sum + Number(amount) * unit[u as keyof typeof unit], 0);
};

/** The URL a `node -e "fetch(…)"` health check calls. */
const healthProbe = (test: readonly string[] | undefined): ProbeUse | undefined => {
  const url = /https?:\/\/[^:/'"]+:(\d+)(\/[^'"\s)]*)/.exec((test ?? []).join(' '));
  return url ? { role: 'readiness', port: Number(url[1]), path: url[2] ?? '/' } : undefined;
};

const hostsOf = (env: Readonly<Record<string, string>>): string[] => [
  ...(env['DATABASE_URL'] ? [new URL(env['DATABASE_URL']).hostname] : []),
  ...(env['KAFKA_BROKERS'] ?? '').split(',').flatMap((b) => (b.trim() ? [b.trim().split(':')[0] ?? ''] : [])),
];

/**
 * The laptop compose file: Postgres, Kafka in KRaft mode, a gateway and at least two orchestrators,
 * each app service running what its package script runs, with variables its schema knows.
 */
export const composeProblems = (compose: ComposeFile, dockerfile: string): string[] => {
  const services = Object.entries(compose.services);
  const appServices = services.filter(([, s]) => s.build?.dockerfile === dockerfile);
  const problems = appServices.flatMap(([name, service]) => {
    const env = Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]),
    );
    const probe = healthProbe(service.healthcheck?.test);
    const missingHosts = hostsOf(env).filter((host) => compose.services[host] === undefined);
    const unordered =
      missingHosts.length === 0
        ? hostsOf(env).filter((host) => service.depends_on?.[host] === undefined)
        : [];
    return [
      ...(probe ? [] : [`service ${name}: no HTTP health check`]),
      ...missingHosts.map((host) => `service ${name}: ${host} is no service of this file`),
      ...unordered.map((host) => `service ${name}: does not depend on ${host}`),
      ...appRunProblems({
        where: `service ${name}`,
        command: service.command,
        env,
        ports: new Set((service.ports ?? []).map((p) => Number(String(p).split(':').at(-1)))),
        probes: probe ? [probe] : [],
        gracePeriodSeconds: seconds(service.stop_grace_period),
      }),
    ];
  });
  const running = (main: string): ComposeService[] =>
    appServices.map(([, s]) => s).filter((s) => s.command?.includes(main));
  const orchestrators = running(apps.orchestrator.main);
  const replicaIds = new Set(orchestrators.map((s) => s.environment?.['REPLICA_ID']));
  const kafka = services.find(([, s]) => s.environment?.['KAFKA_PROCESS_ROLES'] !== undefined)?.[1];
  return [
    ...problems,
    ...(running(apps.gateway.main).length === 1 ? [] : ['not exactly one gateway service']),
    ...(orchestrators.length >= 2 ? [] : ['fewer than two orchestrator services']),
    ...(replicaIds.size === orchestrators.length && !replicaIds.has(undefined)
      ? []
      : ['orchestrators without distinct REPLICA_IDs']),
    ...(kafka?.environment?.['KAFKA_PROCESS_ROLES']?.includes('controller')
      ? []
      : ['no Kafka in KRaft mode (KAFKA_PROCESS_ROLES with controller)']),
  ];
};
