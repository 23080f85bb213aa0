// npm run mutation [-- <module…>] [--since <rev> | --mutate <file…>] [--list] [stryker options…]
// Runs StrykerJS (stryker.config.mjs) module by module on the unit tier, incrementally, and prints
// the score of each module. Reports: reports/mutation/<module>/index.html and mutation.json.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { matchesGlob, relative, resolve } from 'node:path';
import { incrementalFileOf, modules } from '../stryker.config.mjs';
import { makePortable } from './mutation-results.mjs';

const usage = `Usage: npm run mutation -- [module…] [--since <rev> | --mutate <file>[,<file>…]] [--list] [stryker options, e.g. --concurrency 1]

Mutation testing (StrykerJS, unit specs only, incremental) of the core, one module at a time.
Without a module, all of them in this order (durations in docs/mutation.md; incremental reruns
only test mutants whose code or covering tests changed):
${Object.entries(modules)
  .map(([name, { mutate }]) => `  ${name.padEnd(12)} ${mutate.join(' ')}`)
  .join('\n')}

  --since <rev>  mutate only the files of these modules changed since <rev> (committed or not)
  --mutate <file>[,<file>…]
                 mutate only these files (a file may end in a line range, file.ts:10-40), each run
                 with the module it belongs to (without a module named, the modules holding them);
                 the module's other files keep their results in its incremental file and report
  --list         print the modules and exit
  --scores       print each module's score from its committed results (mutation/*.incremental.json)
                 without running anything; a file whose code changed since its results is marked stale
Reports: reports/mutation/<module>/index.html (and mutation.json); see docs/mutation.md.`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h') || args.includes('--list')) {
  console.log(usage);
  process.exit(0);
}
if (args.includes('--scores')) {
  printScores(
    Object.keys(modules).map((name) => ({ name, ...score(name) })),
    true,
  );
  process.exit(0);
}
const chosen = [];
const passThrough = [];
/** `--mutate` files, a line range kept (`file.ts:10-40`). */
const mutate = [];
let since;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--since') since = args[++i];
  else if (arg.startsWith('--since=')) since = arg.slice('--since='.length);
  else if (arg === '--mutate' || arg === '-m') mutate.push(...(args[++i] ?? '').split(','));
  else if (arg.startsWith('--mutate=')) mutate.push(...arg.slice('--mutate='.length).split(','));
  else if (arg.startsWith('-')) {
    passThrough.push(arg);
    if (args[i + 1] !== undefined && !args[i + 1].startsWith('-') && !(args[i + 1] in modules))
      passThrough.push(args[++i]);
  } else if (arg in modules) chosen.push(arg);
  else {
    console.error(`Unknown module "${arg}"; modules: ${Object.keys(modules).join(', ')}\n\n${usage}`);
    process.exit(2);
  }
}
if (since === '') {
  console.error('--since needs a git revision, e.g. --since origin/main');
  process.exit(2);
}
if (mutate.some((file) => file === '') || (since !== undefined && mutate.length > 0)) {
  console.error('--mutate needs files (comma-separated), and goes without --since');
  process.exit(2);
}
/** The files of a module among `candidates`, honouring its negated globs and the spec exclusions. */
const filesOf = (globs, candidates) =>
  [...candidates].filter(
    (file) =>
      !file.endsWith('.spec.ts') &&
      globs.some((g) => !g.startsWith('!') && matchesGlob(file, g)) &&
      !globs.some((g) => g.startsWith('!') && matchesGlob(file, g.slice(1))),
  );

/** A `--mutate` entry without its line range. */
const pathOf = (entry) => entry.replace(/:\d+(:\d+)?-\d+(:\d+)?$/, '');
const unknown = mutate.filter(
  (entry) => !Object.values(modules).some(({ mutate: globs }) => filesOf(globs, [pathOf(entry)]).length > 0),
);
if (unknown.length > 0) {
  console.error(`--mutate: ${unknown.join(', ')} is in no module (npm run mutation -- --list)`);
  process.exit(2);
}

const git = (...gitArgs) => {
  const out = spawnSync('git', gitArgs, { encoding: 'utf8' });
  if (out.status !== 0) {
    console.error(`git ${gitArgs.join(' ')} failed: ${out.stderr.trim()}`);
    process.exit(2);
  }
  return out.stdout.split('\n').filter(Boolean);
};
const changed = since
  ? new Set([...git('diff', '--name-only', `${since}...HEAD`), ...git('diff', '--name-only', 'HEAD')])
  : undefined;

const results = [];
for (const name of chosen.length > 0 ? chosen : Object.keys(modules)) {
  const env = { ...process.env, AGENTLEDGER_MUTATION_MODULE: name };
  if (mutate.length > 0) {
    const files = mutate.filter((entry) => filesOf(modules[name].mutate, [pathOf(entry)]).length > 0);
    if (files.length === 0) {
      if (chosen.length > 0) console.log(`mutation: ${name}: none of the --mutate files is in it, skipped`);
      continue;
    }
    env.AGENTLEDGER_MUTATION_FILES = files.join(',');
  } else if (changed) {
    const files = filesOf(modules[name].mutate, changed);
    if (files.length === 0) {
      console.log(`mutation: ${name}: no file changed since ${since}, skipped`);
      continue;
    }
    env.AGENTLEDGER_MUTATION_FILES = files.join(',');
  }
  console.log(`mutation: ${name}`);
  const run = spawnSync('stryker', ['run', 'stryker.config.mjs', ...passThrough], { stdio: 'inherit', env });
  makePortable(incrementalFileOf(name), process.cwd());
  results.push({ name, status: run.status, ...score(name) });
}

printScores(results, false);
process.exit(results.some((r) => r.status !== 0) ? 1 : 0);

/** The score table: a row per module and, when its results hold several files, per file. */
function printScores(rows, allFiles) {
  const row = (label, r) =>
    `${label.padEnd(12)} ${r.score === undefined ? '   n/a' : `${r.score.toFixed(1).padStart(5)} %`}  ${String(r.killed ?? '').padStart(6)}  ${String(r.survived ?? '').padStart(8)}  ${String(r.noCoverage ?? '').padStart(11)}  ${String(r.timeout ?? '').padStart(7)}  ${String(r.errors ?? '').padStart(6)}${r.stale ? '  stale: the file changed since' : ''}`;
  console.log('\nmodule        score   killed  survived  no-coverage  timeout  errors');
  for (const r of rows) {
    console.log(row(r.name, r));
    // Per file, when the results hold several (earlier runs of the module included).
    if (r.files && (allFiles || r.files.length > 1))
      for (const f of r.files) console.log(row(`  ${f.file}`, f));
  }
}

/** Counts and score of mutants, as Stryker counts them: detected / (detected + undetected). */
function tally(mutants) {
  const counts = {};
  for (const m of mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  const killed = counts.Killed ?? 0;
  const timeout = counts.Timeout ?? 0;
  const survived = counts.Survived ?? 0;
  const noCoverage = counts.NoCoverage ?? 0;
  const detected = killed + timeout;
  const valid = detected + survived + noCoverage;
  return {
    killed,
    survived,
    noCoverage,
    timeout,
    errors: (counts.CompileError ?? 0) + (counts.RuntimeError ?? 0),
    score: valid === 0 ? undefined : (100 * detected) / valid,
  };
}

/**
 * Score of a module, in total and per file, from its JSON report or, when newer (a run interrupted
 * with Ctrl-C saves only that), its incremental file: both hold every mutant with its status.
 */
function score(name) {
  const file = [`reports/mutation/${name}/mutation.json`, incrementalFileOf(name)]
    .filter((f) => existsSync(f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!file) return {};
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const files = Object.entries(report.files).map(([path, f]) => ({
    file: relative(process.cwd(), resolve(path)),
    ...tally(f.mutants),
    stale: typeof f.source === 'string' && existsSync(path) && readFileSync(path, 'utf8') !== f.source,
  }));
  return { ...tally(Object.values(report.files).flatMap((f) => f.mutants)), files };
}
