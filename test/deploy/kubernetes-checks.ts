import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { appOfCommand, apps, type AppName } from './app-facts.ts';
import { appRunProblems, type ProbeUse } from './app-run-checks.ts';

type Labels = Record<string, string>;
type EnvVar = Readonly<{
  name: string;
  value?: string;
  valueFrom?: Readonly<{
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  }>;
}>;
type EnvFrom = Readonly<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
type Probe = Readonly<{
  httpGet?: Readonly<{ path?: string; port: string | number }>;
  periodSeconds?: number;
  failureThreshold?: number;
}>;
type Quantities = Readonly<{ cpu?: string; memory?: string }>;
export type KubeContainer = Readonly<{
  name: string;
  command?: readonly string[];
  env?: readonly EnvVar[];
  envFrom?: readonly EnvFrom[];
  ports?: readonly { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: Readonly<{ requests?: Quantities; limits?: Quantities }>;
  securityContext?: Readonly<{ runAsNonRoot?: boolean }>;
}>;
type PodSpec = Readonly<{
  containers: readonly KubeContainer[];
  terminationGracePeriodSeconds?: number;
  securityContext?: Readonly<{ runAsNonRoot?: boolean }>;
}>;

/**
 * The slowest start measured until /health/ready answered 200 (`node deploy/measure.mjs`, 5 runs per
 * app on a 2-core machine at load average ~29); the startup probe must allow three times that.
 */
export const MEASURED_SLOWEST_START_SECONDS = 31.7;

/**
 * Peak RSS (VmHWM) measured by the same script, start plus 90 turns over 30 sessions: requests must
 * cover it, and limits leave at least half of it again as headroom before an OOM kill.
 */
export const MEASURED_PEAK_RSS_MIB: Readonly<Record<AppName, number>> = { gateway: 283, orchestrator: 335 };

const UNITS: Readonly<Record<string, number>> = {
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  M: 1e6 / 2 ** 20,
  G: 1e9 / 2 ** 20,
};

/** A memory quantity (`384Mi`, `1Gi`, bytes) in MiB. */
const mebibytes = (quantity: string): number => {
  const [, amount = '0', unit = ''] = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(quantity) ?? [];
  return unit === '' ? Number(amount) / 2 ** 20 : Number(amount) * (UNITS[unit] ?? Number.NaN);
};

const memoryProblems = (where: string, container: KubeContainer): string[] => {
  const app = container.command && appOfCommand(container.command);
  const { requests, limits } = container.resources ?? {};
  if (app === undefined || requests?.memory === undefined || limits?.memory === undefined) return [];
  const peak = MEASURED_PEAK_RSS_MIB[app.name];
  return [
    ...(mebibytes(requests.memory) >= peak
      ? []
      : [`${where}: memory request ${requests.memory} is under the measured peak ${peak} MiB`]),
    ...(mebibytes(limits.memory) >= 1.5 * peak
      ? []
      : [`${where}: memory limit ${limits.memory} is under 1.5 × the measured peak ${peak} MiB`]),
  ];
};

/** A Kubernetes object as read from YAML (decode step: fields are checked by the schemas first). */
export type KubeObject = Readonly<{
  apiVersion: string;
  kind: string;
  metadata: Readonly<{ name: string; labels?: Labels }>;
  data?: Labels;
  stringData?: Labels;
  spec?: Readonly<{
    selector?: Readonly<{ matchLabels?: Labels }> & Labels;
    template?: Readonly<{ metadata?: { labels?: Labels }; spec: PodSpec }>;
    ports?: readonly { name?: string; targetPort?: string | number }[];
    scaleTargetRef?: Readonly<{ kind: string; name: string }>;
    maxReplicas?: number;
  }>;
}>;

const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

const nameOf = (object: KubeObject): string => `${object.kind}/${object.metadata.name}`;

/** The object against the Kubernetes JSON schema of its apiVersion and kind. */
export const schemaProblems = (object: KubeObject): string[] => {
  const Model = models[`${object.apiVersion}/${object.kind}`];
  if (Model === undefined) return [`${nameOf(object)}: no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object as never).validate();
    return [];
  } catch (error) {
    return [`${nameOf(object)}: ${error instanceof Error ? error.message : String(error)}`];
  }
};

const find = (objects: readonly KubeObject[], kind: string, name: string): KubeObject | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

const secretValue = (secret: KubeObject, key: string): string | undefined =>
  secret.stringData?.[key] ??
  (secret.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key], 'base64').toString());

/** The environment a container gets from its ConfigMaps, Secrets and literal values. */
const containerEnv = (
  where: string,
  container: KubeContainer,
  objects: readonly KubeObject[],
): { env: Record<string, string>; problems: string[] } => {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const source of container.envFrom ?? []) {
    const [kind, name] = source.configMapRef
      ? ['ConfigMap', source.configMapRef.name]
      : ['Secret', source.secretRef?.name ?? ''];
    const found = find(objects, kind, name);
    if (found === undefined) problems.push(`${where}: envFrom names a missing ${kind} ${name}`);
    else Object.assign(env, found.data, found.stringData);
  }
  for (const variable of container.env ?? []) {
    const { secretKeyRef, configMapKeyRef, fieldRef } = variable.valueFrom ?? {};
    const ref = secretKeyRef ?? configMapKeyRef;
    if (ref !== undefined) {
      const kind = secretKeyRef ? 'Secret' : 'ConfigMap';
      const found = find(objects, kind, ref.name);
      const value = found && (secretKeyRef ? secretValue(found, ref.key) : found.data?.[ref.key]);
      if (value === undefined)
        problems.push(`${where}: ${variable.name} names a missing ${kind} key ${ref.name}/${ref.key}`);
      env[variable.name] = value ?? '';
    } else env[variable.name] = fieldRef ? `field-${fieldRef.fieldPath}` : (variable.value ?? '');
  }
  return { env, problems };
};

const matches = (selector: Labels | undefined, labels: Labels | undefined): boolean =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels?.[key] === value);

const podLabels = (deployment: KubeObject): Labels | undefined => deployment.spec?.template?.metadata?.labels;

const probeUses = (where: string, container: KubeContainer): { probes: ProbeUse[]; problems: string[] } => {
  const ports = new Map(
    (container.ports ?? []).flatMap((p) => [
      [String(p.containerPort), p.containerPort],
      [p.name, p.containerPort],
    ]),
  );
  const problems: string[] = [];
  const probes: ProbeUse[] = [];
  for (const role of ['startup', 'readiness', 'liveness'] as const) {
    const probe = container[`${role}Probe`];
    if (probe?.httpGet === undefined) problems.push(`${where}: no ${role} probe over HTTP`);
    else probes.push({ role, path: probe.httpGet.path ?? '/', port: ports.get(String(probe.httpGet.port)) });
  }
  const startup = container.startupProbe;
  const budget = (startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3);
  if (budget < 3 * MEASURED_SLOWEST_START_SECONDS)
    problems.push(`${where}: the startup probe allows ${budget} s, under 3 × the slowest measured start`);
  return { probes, problems };
};

const deploymentProblems = (deployment: KubeObject, objects: readonly KubeObject[]): string[] => {
  const pod = deployment.spec?.template?.spec;
  if (pod === undefined) return [`${nameOf(deployment)}: no pod template`];
  return pod.containers.flatMap((container) => {
    const where = `${nameOf(deployment)} container ${container.name}`;
    const { env, problems: envProblems } = containerEnv(where, container, objects);
    const { probes, problems: probeProblems } = probeUses(where, container);
    const { requests, limits } = container.resources ?? {};
    return [
      ...envProblems,
      ...probeProblems,
      ...(requests?.cpu && requests.memory && limits?.memory
        ? []
        : [`${where}: no cpu and memory requests and memory limit`]),
      ...memoryProblems(where, container),
      ...((container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot)
        ? []
        : [`${where}: runAsNonRoot is not set`]),
      ...appRunProblems({
        where,
        command: container.command,
        env,
        ports: new Set((container.ports ?? []).map((p) => p.containerPort)),
        probes,
        gracePeriodSeconds: pod.terminationGracePeriodSeconds ?? 30,
      }),
    ];
  });
};

/** Services, disruption budgets and autoscalers point at pods and ports that exist. */
const referenceProblems = (object: KubeObject, objects: readonly KubeObject[]): string[] => {
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  if (object.kind === 'Service' || object.kind === 'PodDisruptionBudget') {
    const selector =
      object.kind === 'Service'
        ? (object.spec?.selector as Labels | undefined)
        : object.spec?.selector?.matchLabels;
    const targets = deployments.filter((d) => matches(selector, podLabels(d)));
    if (targets.length === 0) return [`${nameOf(object)}: its selector matches no Deployment's pods`];
    const ports = new Set(
      targets.flatMap(
        (d) =>
          d.spec?.template?.spec.containers.flatMap((c) =>
            (c.ports ?? []).flatMap((p) => [p.name, p.containerPort]),
          ) ?? [],
      ),
    );
    return (object.spec?.ports ?? [])
      .filter((p) => p.targetPort !== undefined && !ports.has(p.targetPort))
      .map((p) => `${nameOf(object)}: targetPort ${p.targetPort} is no container port`);
  }
  if (object.kind === 'HorizontalPodAutoscaler') {
    const ref = object.spec?.scaleTargetRef;
    const target = ref && find(objects, ref.kind, ref.name);
    if (target === undefined) return [`${nameOf(object)}: scaleTargetRef names no object here`];
    const containers = target.spec?.template?.spec.containers ?? [];
    const problems = containers
      .filter((c) => c.resources?.requests?.cpu === undefined)
      .map((c) => `${nameOf(object)}: container ${c.name} has no cpu request to scale on`);
    const orchestrator = containers.find((c) => c.command?.includes(apps.orchestrator.main));
    if (orchestrator !== undefined) {
      const { env } = containerEnv(nameOf(target), orchestrator, objects);
      const partitions = Number(
        env['KAFKA_PARTITIONS'] ?? apps.orchestrator.schema.shape['KAFKA_PARTITIONS']?.parse(undefined),
      );
      if ((object.spec?.maxReplicas ?? 0) > partitions)
        problems.push(
          `${nameOf(object)}: maxReplicas above KAFKA_PARTITIONS (${partitions}): extra replicas get no partition`,
        );
    }
    return problems;
  }
  return [];
};

/** Every problem of a set of manifests: schemas, then what the apps accept and serve, then references. */
export const kubernetesProblems = (objects: readonly KubeObject[]): string[] => {
  const invalid = objects.flatMap(schemaProblems);
  if (invalid.length > 0) return invalid;
  return objects.flatMap((object) => [
    ...(object.kind === 'Deployment' ? deploymentProblems(object, objects) : []),
    ...referenceProblems(object, objects),
  ]);
};
