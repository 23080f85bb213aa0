import { appOfCommand, knownVariables, nodeCommandOfScript } from './app-facts.ts';

/** A probe or health check as a deployment file declares it. */
export type ProbeUse = Readonly<{
  role: 'startup' | 'readiness' | 'liveness';
  path: string;
  port: number | undefined;
}>;

/** One process of an app as a deployment file runs it: a Kubernetes container or a compose service. */
export type AppRun = Readonly<{
  where: string;
  command: readonly string[] | undefined;
  env: Readonly<Record<string, string>>;
  /** Ports the container exposes. */
  ports: ReadonlySet<number>;
  probes: readonly ProbeUse[];
  /** Seconds between SIGTERM and SIGKILL. */
  gracePeriodSeconds: number;
}>;

/**
 * Liveness (and the startup probe guarding it) must never depend on the store, the bus or work, so a
 * busy replica is never restarted; readiness is the one that checks dependencies.
 */
const PROBE_PATHS: Readonly<Record<ProbeUse['role'], string>> = {
  startup: '/health/live',
  liveness: '/health/live',
  readiness: '/health/ready',
};

const ALL_INTERFACES = new Set(['0.0.0.0', '::']);

/** What the code accepts and serves, against what the file runs: command, variables, ports, probes. */
export const appRunProblems = (run: AppRun): string[] => {
  const app = run.command && appOfCommand(run.command);
  if (app === undefined)
    return [`${run.where}: the command ${JSON.stringify(run.command)} starts no known app`];
  const problems: string[] = [];
  const script = `start:${app.name}`;
  const expected = nodeCommandOfScript(script);
  if (JSON.stringify(run.command) !== JSON.stringify(expected))
    problems.push(
      `${run.where}: command ${JSON.stringify(run.command)} is not the one \`npm run ${script}\` runs (${JSON.stringify(expected)})`,
    );
  const known = knownVariables(app, run.env);
  for (const name of Object.keys(run.env).filter((n) => !known.has(n)))
    problems.push(`${run.where}: ${name} is read by no ${app.name} config schema`);
  const parsed = app.schema.safeParse(run.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      problems.push(`${run.where}: ${issue.path.join('.')}: ${issue.message}`);
    return problems;
  }
  const config = parsed.data as Record<string, unknown>;
  if (!ALL_INTERFACES.has(String(config['HOST'])))
    problems.push(
      `${run.where}: HOST ${String(config['HOST'])} is unreachable from outside the container (0.0.0.0)`,
    );
  const httpPort = Number(config[app.httpPortVariable]);
  for (const variable of [app.httpPortVariable, ...app.otherPortVariables]) {
    const port = Number(config[variable]);
    if (!run.ports.has(port)) problems.push(`${run.where}: ${variable} ${port} is not an exposed port`);
  }
  for (const probe of run.probes) {
    if (probe.port !== httpPort)
      problems.push(
        `${run.where}: ${probe.role} probe on port ${probe.port}, but ${app.httpPortVariable} is ${httpPort}`,
      );
    if (!app.servedPaths.has(probe.path))
      problems.push(`${run.where}: ${probe.role} probe path ${probe.path} is not served by the ${app.name}`);
    else if (probe.path !== PROBE_PATHS[probe.role])
      problems.push(
        `${run.where}: ${probe.role} probe on ${probe.path}, expected ${PROBE_PATHS[probe.role]}`,
      );
  }
  const deadline = config['SHUTDOWN_DEADLINE_MS'];
  if (typeof deadline === 'number' && run.gracePeriodSeconds * 1000 <= deadline)
    problems.push(
      `${run.where}: grace period ${run.gracePeriodSeconds} s is not above SHUTDOWN_DEADLINE_MS ${deadline}`,
    );
  return problems;
};
