/**
 * `npm run chaos -- --profile short|long [--seed N] [--kafka-client kafkajs|platformatic]`: the
 * chaos harness (test/chaos/README.md). Progress goes to stderr, the JSON report to stdout; exits 1
 * when a check fails, and the seed printed reproduces the run's workload and fault schedule.
 */
import { parseArgs } from 'node:util';
import { runChaos } from './harness.ts';

const usage = `usage: npm run chaos -- --profile short|long [--seed N] [--kafka-client kafkajs|platformatic]

Starts a private Postgres, a private Kafka broker, one gateway, three orchestrators and the fake
model, drives N sessions x T turns over REST and gRPC while a seeded fault schedule kills and
restarts them, then prints every check as JSON (exit 1 when one fails).
  --profile short   100 sessions x 3 turns, all fault kinds (a few minutes)
  --profile long    1,000 sessions x 5 turns, all fault kinds
  --seed N          reproduce a run's workload and fault schedule (default: random, printed)
  --sessions N, --turns T   override the profile's workload size`;

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'short' },
    seed: { type: 'string' },
    'kafka-client': { type: 'string', default: 'kafkajs' },
    sessions: { type: 'string' },
    turns: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const profile = values.profile;
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const client = values['kafka-client'];
if (
  (profile !== 'short' && profile !== 'long') ||
  !Number.isInteger(seed) ||
  (client !== 'kafkajs' && client !== 'platformatic')
) {
  console.error(usage);
  process.exit(2);
}
const sizes = {
  ...(values.sessions === undefined ? {} : { sessions: Number(values.sessions) }),
  ...(values.turns === undefined ? {} : { turns: Number(values.turns) }),
};
if (Object.values(sizes).some((n) => !Number.isInteger(n) || n < 1)) {
  console.error(usage);
  process.exit(2);
}
const report = await runChaos({
  profile,
  seed,
  kafkaClient: client,
  sizes,
  log: (line) => console.error(`[chaos] ${line}`),
});
console.log(JSON.stringify(report, null, 2));
console.error(
  `[chaos] ${report.passed ? 'passed' : 'FAILED'} (seed ${seed}: npm run chaos -- --profile ${profile} --seed ${seed})`,
);
process.exit(report.passed ? 0 : 1);
