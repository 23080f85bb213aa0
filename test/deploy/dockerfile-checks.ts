import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { appOfCommand, apps, nodeCommandOfScript, repoRoot, rootPackage, runtimeFiles } from './app-facts.ts';

type Instruction = Readonly<{ keyword: string; args: string }>;
type Stage = Readonly<{ name: string; from: string; instructions: readonly Instruction[] }>;

/** Instructions by stage; comments dropped, continuation lines joined, `${ARG}` defaults applied. */
export const parseDockerfile = (text: string): Stage[] => {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: { name: string; from: string; instructions: Instruction[] }[] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const raw = rest.join(' ');
    const resolved = raw.replace(/\$\{(\w+)\}/g, (whole, name: string) => args[name] ?? whole);
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = raw.split('=');
      args[name] = value;
    } else if (upper === 'FROM') {
      const [from = '', , name] = resolved.split(/\s+/);
      stages.push({ name: name ?? String(stages.length), from, instructions: [] });
    } else stages.at(-1)?.instructions.push({ keyword: upper, args: resolved });
  }
  return stages;
};

const workspaceDirs = (): string[] =>
  rootPackage.workspaces.flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(join(repoRoot, pattern.slice(0, -2)))
          .map((entry) => `${pattern.slice(0, -2)}/${entry}`)
          .filter((dir) => existsSync(join(repoRoot, dir, 'package.json')))
      : [pattern],
  );

/** `COPY [--from=x] src… dest` → sources and destination. */
const copyOf = (instruction: Instruction): { from?: string; sources: string[]; dest: string } => {
  const words = instruction.args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  return { ...(from ? { from } : {}), sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
};

const ancestry = (stages: readonly Stage[], stage: Stage): Stage[] => {
  const parent = stages.find((s) => s.name === stage.from);
  return parent ? [...ancestry(stages, parent), stage] : [stage];
};

const runProblems = (stage: Stage, stages: readonly Stage[]): string[] =>
  stage.instructions
    .filter((i) => i.keyword === 'RUN')
    .flatMap((run) => {
      const scripts = [...run.args.matchAll(/npm run (\S+)/g)].map((m) => m[1] ?? '');
      const nodePaths = [...run.args.matchAll(/\bnode (?!-)(\S+)/g)].map((m) => m[1] ?? '');
      // what the stage and its parents copied before this RUN
      const before = ancestry(stages, stage).flatMap((s) =>
        s === stage ? s.instructions.slice(0, s.instructions.indexOf(run)) : s.instructions,
      );
      const copied = new Set(before.filter((i) => i.keyword === 'COPY').flatMap((i) => copyOf(i).sources));
      const manifests = /\bnpm (ci|install)\b/.test(run.args)
        ? [
            'package.json',
            'package-lock.json',
            ...workspaceDirs().map((dir) => `${dir}/package.json`),
          ].filter((f) => !copied.has(f) && !copied.has('.'))
        : [];
      return [
        ...scripts
          .filter((s) => rootPackage.scripts[s] === undefined)
          .map((s) => `stage ${stage.name}: npm run ${s}: no such script`),
        ...nodePaths
          .filter((p) => !existsSync(join(repoRoot, p)))
          .map((p) => `stage ${stage.name}: node ${p}: no such file`),
        ...manifests.map((f) => `stage ${stage.name}: npm ci before ${f} is copied`),
      ];
    });

const runtimeProblems = (runtime: Stage, stages: readonly Stage[]): string[] => {
  const problems: string[] = [];
  const user = runtime.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;
  if (user === undefined || /^(root|0)(:|$)/.test(user)) problems.push('the final stage runs as root');
  const cmd = runtime.instructions.find((i) => i.keyword === 'CMD')?.args;
  const command = cmd?.startsWith('[') ? (JSON.parse(cmd) as string[]) : undefined;
  const app = command && appOfCommand(command);
  if (app === undefined) problems.push(`CMD ${cmd} starts no known app (use the JSON form)`);
  else if (JSON.stringify(command) !== JSON.stringify(nodeCommandOfScript(`start:${app.name}`)))
    problems.push(`CMD ${cmd} is not what npm run start:${app.name} runs`);
  const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map(copyOf);
  const modules = copies.find((c) => c.dest === 'node_modules' || c.dest === 'node_modules/');
  const modulesStage = stages.find((s) => s.name === modules?.from);
  const installs =
    modulesStage &&
    ancestry(stages, modulesStage).flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN'));
  if (!installs?.some((i) => /npm ci\b.*--omit=dev/.test(i.args)))
    problems.push('node_modules of the final stage does not come from `npm ci --omit=dev`');
  const destinations = copies.filter((c) => c.from !== undefined).map((c) => c.dest.replace(/\/$/, ''));
  for (const needed of [...runtimeFiles, ...Object.values(apps).map((a) => dirname(a.main))])
    if (!destinations.some((d) => needed === d || needed.startsWith(`${d}/`)))
      problems.push(`the final stage lacks ${needed}, which the apps read at run time`);
  return problems;
};

/** The Dockerfile's commands against the package scripts, the repository and what the apps read. */
export const dockerfileProblems = (text: string): string[] => {
  const stages = parseDockerfile(text);
  const runtime = stages.at(-1);
  if (runtime === undefined) return ['no FROM'];
  const names = new Set(stages.map((s) => s.name));
  const bases = new Set(stages.filter((s) => !names.has(s.from)).map((s) => s.from));
  const contextCopies = stages.flatMap((s) =>
    s.instructions
      .filter((i) => i.keyword === 'COPY')
      .map(copyOf)
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources),
  );
  return [
    ...[...bases].filter((b) => !/^node:24([.-]|$)/.test(b)).map((b) => `base image ${b} is not Node.js 24`),
    ...(stages.length > 1 ? [] : ['not a multi-stage build']),
    ...contextCopies
      .filter((p) => !existsSync(join(repoRoot, p)))
      .map((p) => `COPY ${p}: not in the repository`),
    ...stages.flatMap((s) => runProblems(s, stages)),
    ...runtimeProblems(runtime, stages),
  ];
};
