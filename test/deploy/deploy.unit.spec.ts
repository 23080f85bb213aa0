import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { apps, repoRoot } from './app-facts.ts';
import { composeProblems, type ComposeFile } from './compose-checks.ts';
import { dockerfileProblems } from './dockerfile-checks.ts';
import { kubernetesProblems, schemaProblems, type KubeObject } from './kubernetes-checks.ts';

// deploy/: the Dockerfile, the compose file and the Kubernetes manifests, checked against the
// Kubernetes schemas and against what the apps' code accepts (config schemas) and serves (routes).
const read = (path: string): string => readFileSync(`${repoRoot}deploy/${path}`, 'utf8');
const DOCKERFILE = 'deploy/Dockerfile';

const kustomization = parse(read('k8s/kustomization.yaml')) as { resources: string[] };
const manifestTexts = (): Map<string, string> =>
  new Map(kustomization.resources.map((file) => [file, read(`k8s/${file}`)]));
const objectsOf = (texts: ReadonlyMap<string, string>): KubeObject[] =>
  [...texts.values()].flatMap((text) => parseAllDocuments(text).map((doc) => doc.toJS() as KubeObject));

/** The manifests with `from` replaced by `to` in `file` (which must contain it). */
const manifestsWith = (file: string, from: string, to: string): KubeObject[] => {
  const texts = manifestTexts();
  const text = texts.get(file) ?? '';
  expect(text).toContain(from);
  return objectsOf(texts.set(file, text.replace(from, to)));
};
const composeWith = (from: string, to: string): ComposeFile => {
  const text = read('compose.yaml');
  expect(text).toContain(from);
  return parse(text.replace(from, to), { merge: true }) as ComposeFile;
};
const dockerfileWith = (from: string, to: string): string => {
  const text = read('Dockerfile');
  expect(text).toContain(from);
  return text.replace(from, to);
};

describe('the apps as the checks see them', () => {
  it('serve the probe paths, read from their controllers', () => {
    for (const app of Object.values(apps))
      expect([...app.servedPaths].sort()).toEqual(['/health/live', '/health/ready', '/metrics']);
  });
});

describe('Kubernetes manifests (deploy/k8s)', () => {
  const objects = objectsOf(manifestTexts());

  it('kustomization.yaml lists every manifest of the folder', () => {
    const files = readdirSync(`${repoRoot}deploy/k8s`).filter(
      (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
    );
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it('validate against the Kubernetes JSON schemas', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/agentledger-gateway',
      'ConfigMap/agentledger-orchestrator',
      'Deployment/agentledger-gateway',
      'Deployment/agentledger-orchestrator',
      'HorizontalPodAutoscaler/agentledger-gateway',
      'HorizontalPodAutoscaler/agentledger-orchestrator',
      'PodDisruptionBudget/agentledger-gateway',
      'PodDisruptionBudget/agentledger-orchestrator',
      'Secret/agentledger-secrets',
      'Service/agentledger-gateway',
    ]);
    expect(objects.flatMap(schemaProblems)).toEqual([]);
  });

  it('run the apps with variables, ports, probes and commands the apps accept', () => {
    expect(kubernetesProblems(objects)).toEqual([]);
  });

  it('fail the schema check on a malformed field or an unknown kind', () => {
    expect(
      kubernetesProblems(manifestsWith('gateway.yaml', 'containerPort: 3000', "containerPort: '3000'")),
    ).toEqual([
      expect.stringContaining(
        'Deployment/agentledger-gateway: data/spec/template/spec/containers/0/ports/0/containerPort must be integer',
      ),
    ]);
    expect(schemaProblems({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })).toEqual([
      'Pod/p: no schema for v1 Pod',
    ]);
  });

  it('fail on a variable no config schema reads, and on a value the schema rejects', () => {
    expect(
      kubernetesProblems(
        manifestsWith('config.yaml', "GRPC_PORT: '50051'", "GRPC_PORT: '50051'\n  GRPC_PROT: '1'"),
      ),
    ).toEqual([
      'Deployment/agentledger-gateway container gateway: GRPC_PROT is read by no gateway config schema',
    ]);
    expect(kubernetesProblems(manifestsWith('config.yaml', 'LOG_LEVEL: info', 'LOG_LEVEL: verbose'))).toEqual(
      [expect.stringContaining('Deployment/agentledger-orchestrator container orchestrator: LOG_LEVEL:')],
    );
  });

  it('know the model key variables from the configured endpoints only', () => {
    expect(
      kubernetesProblems(
        manifestsWith('secret.yaml', '"apiKeyEnv":"LOCAL_MODEL_API_KEY"', '"apiKeyFile":"/keys/local"'),
      ),
    ).toEqual([
      'Deployment/agentledger-orchestrator container orchestrator: LOCAL_MODEL_API_KEY is read by no orchestrator config schema',
    ]);
  });

  it('fail on a probe the app does not serve, on the wrong port, or liveness on readiness', () => {
    expect(
      kubernetesProblems(manifestsWith('gateway.yaml', 'path: /health/ready', 'path: /healthz')),
    ).toEqual([
      'Deployment/agentledger-gateway container gateway: readiness probe path /healthz is not served by the gateway',
    ]);
    const liveness =
      'livenessProbe:\n            httpGet:\n              path: /health/live\n              port: http';
    expect(
      kubernetesProblems(
        manifestsWith('orchestrator.yaml', liveness, liveness.replace('/health/live', '/health/ready')),
      ),
    ).toEqual([
      'Deployment/agentledger-orchestrator container orchestrator: liveness probe on /health/ready, expected /health/live',
    ]);
    expect(
      kubernetesProblems(
        manifestsWith('gateway.yaml', liveness, liveness.replace('port: http', 'port: grpc')),
      ),
    ).toEqual([
      'Deployment/agentledger-gateway container gateway: liveness probe on port 50051, but PORT is 3000',
    ]);
    expect(
      kubernetesProblems(manifestsWith('gateway.yaml', 'failureThreshold: 24', 'failureThreshold: 6')),
    ).toEqual([
      'Deployment/agentledger-gateway container gateway: the startup probe allows 30 s, under 3 × the slowest measured start',
    ]);
  });

  it('fail when the port or the interface is not the one the app listens on', () => {
    expect(
      kubernetesProblems(
        manifestsWith('config.yaml', "ORCHESTRATOR_PORT: '3001'", "ORCHESTRATOR_PORT: '3002'"),
      ),
    ).toEqual([
      'Deployment/agentledger-orchestrator container orchestrator: ORCHESTRATOR_PORT 3002 is not an exposed port',
      'Deployment/agentledger-orchestrator container orchestrator: startup probe on port 3001, but ORCHESTRATOR_PORT is 3002',
      'Deployment/agentledger-orchestrator container orchestrator: readiness probe on port 3001, but ORCHESTRATOR_PORT is 3002',
      'Deployment/agentledger-orchestrator container orchestrator: liveness probe on port 3001, but ORCHESTRATOR_PORT is 3002',
    ]);
    expect(kubernetesProblems(manifestsWith('config.yaml', 'HOST: 0.0.0.0', 'HOST: 127.0.0.1'))).toEqual([
      'Deployment/agentledger-gateway container gateway: HOST 127.0.0.1 is unreachable from outside the container (0.0.0.0)',
    ]);
  });

  it('fail when the grace period is not above the drain deadline', () => {
    expect(
      kubernetesProblems(
        manifestsWith(
          'orchestrator.yaml',
          'terminationGracePeriodSeconds: 40',
          'terminationGracePeriodSeconds: 20',
        ),
      ),
    ).toEqual([
      'Deployment/agentledger-orchestrator container orchestrator: grace period 20 s is not above SHUTDOWN_DEADLINE_MS 20000',
    ]);
  });

  it('fail on a command other than the package script, and on missing resources', () => {
    expect(
      kubernetesProblems(
        manifestsWith('orchestrator.yaml', "'--disable-warning=TimeoutNegativeWarning',", ''),
      ),
    ).toEqual([
      expect.stringMatching(
        /^Deployment\/agentledger-orchestrator container orchestrator: command .* is not the one `npm run start:orchestrator` runs/,
      ),
    ]);
    expect(
      kubernetesProblems(manifestsWith('gateway.yaml', 'memory: 320Mi', 'ephemeral-storage: 1Gi')),
    ).toEqual([
      'Deployment/agentledger-gateway container gateway: no cpu and memory requests and memory limit',
    ]);
  });

  it('fail on memory sized under the measured peak RSS', () => {
    expect(kubernetesProblems(manifestsWith('orchestrator.yaml', 'memory: 768Mi', 'memory: 0.4Gi'))).toEqual([
      'Deployment/agentledger-orchestrator container orchestrator: memory limit 0.4Gi is under 1.5 × the measured peak 335 MiB',
    ]);
    expect(kubernetesProblems(manifestsWith('gateway.yaml', 'memory: 320Mi', 'memory: 256Mi'))).toEqual([
      'Deployment/agentledger-gateway container gateway: memory request 256Mi is under the measured peak 283 MiB',
    ]);
  });

  it('fail on dangling references: Service port, budget selector, autoscaler bounds', () => {
    expect(
      kubernetesProblems(manifestsWith('gateway.yaml', 'targetPort: grpc', 'targetPort: metrics')),
    ).toEqual(['Service/agentledger-gateway: targetPort metrics is no container port']);
    expect(
      kubernetesProblems(
        manifestsWith(
          'disruption-budgets.yaml',
          'maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: agentledger-orchestrator',
          'maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: orchestrator',
        ),
      ),
    ).toEqual(["PodDisruptionBudget/agentledger-orchestrator: its selector matches no Deployment's pods"]);
    expect(
      kubernetesProblems(manifestsWith('autoscaling.yaml', 'maxReplicas: 12', 'maxReplicas: 24')),
    ).toEqual([
      'HorizontalPodAutoscaler/agentledger-orchestrator: maxReplicas above KAFKA_PARTITIONS (12): extra replicas get no partition',
    ]);
  });
});

describe('compose file (deploy/compose.yaml)', () => {
  const compose = (): ComposeFile => parse(read('compose.yaml'), { merge: true }) as ComposeFile;

  it('runs Postgres, Kafka in KRaft mode, a gateway and two orchestrators as the apps accept', () => {
    expect(Object.keys(compose().services).sort()).toEqual([
      'gateway',
      'kafka',
      'orchestrator-1',
      'orchestrator-2',
      'postgres',
    ]);
    expect(composeProblems(compose(), DOCKERFILE)).toEqual([]);
  });

  it('fails on an unknown variable, a short stop grace period, a wrong health check, a missing host', () => {
    expect(
      composeProblems(
        composeWith("GRPC_PORT: '50051'", "GRPC_PORT: '50051'\n      OTEL_ON: '1'"),
        DOCKERFILE,
      ),
    ).toEqual(['service gateway: OTEL_ON is read by no gateway config schema']);
    expect(
      composeProblems(
        composeWith(
          'stop_grace_period: 40s\n\n  orchestrator-2',
          'stop_grace_period: 15s\n\n  orchestrator-2',
        ),
        DOCKERFILE,
      ),
    ).toEqual(['service orchestrator-1: grace period 15 s is not above SHUTDOWN_DEADLINE_MS 20000']);
    expect(
      composeProblems(composeWith('127.0.0.1:3000/health/ready', '127.0.0.1:3000/ready'), DOCKERFILE),
    ).toEqual(['service gateway: readiness probe path /ready is not served by the gateway']);
    expect(
      composeProblems(composeWith('KAFKA_BROKERS: kafka:9092', 'KAFKA_BROKERS: broker:9092'), DOCKERFILE),
    ).toEqual([
      'service orchestrator-1: broker is no service of this file',
      'service orchestrator-2: broker is no service of this file',
    ]);
    expect(
      composeProblems(composeWith('REPLICA_ID: orchestrator-2', 'REPLICA_ID: orchestrator-1'), DOCKERFILE),
    ).toEqual(['orchestrators without distinct REPLICA_IDs']);
  });
});

describe('Dockerfile (deploy/Dockerfile)', () => {
  it('runs only package scripts and files that exist, and ships what the apps read', () => {
    expect(dockerfileProblems(read('Dockerfile'))).toEqual([]);
  });

  it('fails on an unknown script, a root user, dev dependencies, a missing runtime folder, another Node', () => {
    expect(dockerfileProblems(dockerfileWith('RUN npm run build', 'RUN npm run compile'))).toEqual([
      'stage build: npm run compile: no such script',
    ]);
    expect(dockerfileProblems(dockerfileWith('USER 1000:1000', 'USER root'))).toEqual([
      'the final stage runs as root',
    ]);
    expect(dockerfileProblems(dockerfileWith('npm ci --omit=dev', 'npm ci'))).toEqual([
      'node_modules of the final stage does not come from `npm ci --omit=dev`',
    ]);
    expect(dockerfileProblems(dockerfileWith('COPY --from=build /app/migrations migrations\n', ''))).toEqual([
      'the final stage lacks migrations, which the apps read at run time',
      'the final stage lacks migrations/gateway, which the apps read at run time',
    ]);
    expect(dockerfileProblems(dockerfileWith('node:24-bookworm-slim', 'node:22-bookworm-slim'))).toEqual([
      'base image node:22-bookworm-slim is not Node.js 24',
    ]);
  });

  it("keeps the host's dependencies and build output out of `COPY . .`", () => {
    expect(read('Dockerfile')).toContain('COPY . .');
    const ignored = read('Dockerfile.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '**/*.tsbuildinfo']));
  });

  it('fails on a workspace manifest missing before npm ci, and on a CMD that is not the package script', () => {
    expect(
      dockerfileProblems(dockerfileWith('COPY libs/sessions/package.json libs/sessions/\n', '')),
    ).toEqual([
      'stage build: npm ci before libs/sessions/package.json is copied',
      'stage deps: npm ci before libs/sessions/package.json is copied',
    ]);
    expect(
      dockerfileProblems(
        dockerfileWith('"node", "--enable-source-maps", "apps/gateway', '"node", "apps/gateway'),
      ),
    ).toEqual(['CMD ["node", "apps/gateway/dist/main.js"] is not what npm run start:gateway runs']);
  });
});
