#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { z } from 'zod';
import { BUILTIN_TOOL_NAMES, parseModelEndpoints } from '@agentledger/agents';
import { createPgliteEventStore } from '@agentledger/events/pglite';
import { createPostgresEventStore } from '@agentledger/events/postgres';
import {
  closeThroughEngine,
  createSessionEngine,
  loadToolsModule,
  readAuditSigner,
} from '@agentledger/sessions';
import {
  createSqlCheckpointStore,
  createSqlRetentionStore,
  createSqlSessionIndex,
} from '@agentledger/sessions/sql';
import { createPostgresApiKeyStore, migrateGatewayDatabase } from './auth/postgres-api-key-store.ts';
import { openPgliteApiKeys } from './auth/pglite-api-keys.ts';
import { REPLAY_USAGE, runReplayCommand, runVerifyCommand, VERIFY_USAGE } from './cli/audit-commands.ts';
import {
  EXPORT_USAGE,
  IMPORT_USAGE,
  runExportCommand,
  runImportCommand,
  type SessionCliOpener,
} from './cli/bundle-commands.ts';
import { DIFF_USAGE, FORK_USAGE, runDiffCommand, runForkCommand } from './cli/fork-diff-commands.ts';
import { createTeamSpecParser } from './teams/agents-team-spec-parser.ts';
import { runKeysCommand } from './cli/keys-command.ts';
import { RETENTION_USAGE, runRetentionCommand, type RetentionCliOpener } from './cli/retention-command.ts';
import { gatewayConfigSchema } from './config/gateway.config.ts';
import { parseRetentionPolicies } from './config/retention.config.ts';

/** The CLI's composition root: its configuration is DATABASE_URL (or --data-dir) and the audit keys. */
const cliConfigSchema = z.object({
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/agentledger'),
  AGENTLEDGER_RETENTION: gatewayConfigSchema.shape.AGENTLEDGER_RETENTION,
  /** As for the gateway: imported specs are checked against these tools (and the model endpoints). */
  TOOLS_MODULE: z.string().optional(),
});

const USAGE = `usage: agentledger <command> [options]   (--help on any command)

  keys create     create an API key for a tenant
  replay          print a session's conversation as it stood at a version (no model, no tool)
  verify          check hash chains, signed checkpoints and decision replay (one session or --all)
  retention run   apply the operator's retention policies (close idle, delete closed, prune)
  export          write a session's audit bundle to stdout
  import          verify a bundle (stdin or a file) and store its session
  fork            start a session from another one's first N events
  diff            the first divergent version of two sessions, then what each did

Reads DATABASE_URL (Postgres) or, with --data-dir, the embedded product's data directory.

${REPLAY_USAGE}

${VERIFY_USAGE}

${RETENTION_USAGE}

${EXPORT_USAGE}

${IMPORT_USAGE}

${FORK_USAGE}

${DIFF_USAGE}`;

const io = {
  out: (line: string) => console.log(line),
  err: (line: string) => console.error(line),
  progress: (text: string) => void process.stderr.write(text),
  write: (text: string) => void process.stdout.write(text),
  readInput: async (path: string | undefined): Promise<string> => {
    if (path !== undefined) return readFileSync(path, 'utf8');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

const openStore = async (url: string, dataDir: string | undefined) => {
  const store =
    dataDir === undefined
      ? await createPostgresEventStore({ connectionString: url, migrate: true })
      : await createPgliteEventStore({ dataDir: join(dataDir, 'pglite') });
  const engine = createSessionEngine({ store, index: createSqlSessionIndex(store.db), partitions: 1 });
  return { store, engine };
};

const openAudit =
  (url: string, toolsModule: string | undefined): SessionCliOpener =>
  async (dataDir) => {
    const readFile = (path: string) => readFileSync(path, 'utf8');
    const signer = readAuditSigner(process.env, readFile);
    const parseSpec = createTeamSpecParser(
      [...BUILTIN_TOOL_NAMES, ...(await loadToolsModule(toolsModule)).map((tool) => tool.name)],
      parseModelEndpoints(process.env, readFile),
    );
    const { store, engine } = await openStore(url, dataDir);
    const retention = createSqlRetentionStore(store.db);
    return {
      store,
      streamIdOf: engine.streamIdOf,
      engine,
      checkSpec: async (spec) => {
        const check = await parseSpec(spec);
        return check.ok ? [] : check.issues;
      },
      checkpoints: createSqlCheckpointStore(store.db),
      ...(signer === undefined ? {} : { signer }),
      tombstones: retention.tombstones,
      close: () => store.close(),
    };
  };

const openRetention =
  (url: string): RetentionCliOpener =>
  async (dataDir) => {
    const { store, engine } = await openStore(url, dataDir);
    return {
      store: createSqlRetentionStore(store.db),
      closeSession: closeThroughEngine(engine),
      close: () => store.close(),
    };
  };

const main = async (): Promise<number> => {
  const config = cliConfigSchema.safeParse(process.env);
  if (!config.success) {
    console.error('DATABASE_URL must be a postgres:// URL');
    return 2;
  }
  const url = config.data.DATABASE_URL;
  const argv = process.argv.slice(2);
  switch (argv[0]) {
    case 'replay':
      return runReplayCommand(argv, openAudit(url, config.data.TOOLS_MODULE), io);
    case 'verify':
      return runVerifyCommand(argv, openAudit(url, config.data.TOOLS_MODULE), io);
    case 'export':
      return runExportCommand(argv, openAudit(url, config.data.TOOLS_MODULE), io);
    case 'import':
      return runImportCommand(argv, openAudit(url, config.data.TOOLS_MODULE), io);
    case 'fork':
      return runForkCommand(argv, openAudit(url, config.data.TOOLS_MODULE), io);
    case 'diff':
      return runDiffCommand(argv, openAudit(url, config.data.TOOLS_MODULE), io);
    case 'retention': {
      const policies = parseRetentionPolicies(config.data.AGENTLEDGER_RETENTION, (path) =>
        readFileSync(path, 'utf8'),
      );
      if ('problem' in policies) {
        console.error(policies.problem);
        return 2;
      }
      return runRetentionCommand(argv, policies, openRetention(url), io);
    }
    case 'keys':
      return runKeysCommand(
        argv,
        async (target) => {
          if (target.kind === 'pglite') return openPgliteApiKeys(target.dataDir);
          await migrateGatewayDatabase(url);
          const pool = new pg.Pool({ connectionString: url, max: 1 });
          return { store: createPostgresApiKeyStore(drizzle({ client: pool })), close: () => pool.end() };
        },
        io,
      );
    case undefined:
    case '--help':
    case 'help':
      console.log(USAGE);
      return argv[0] === undefined ? 2 : 0;
    default:
      console.error(`unknown command ${argv[0]}\n${USAGE}`);
      return 2;
  }
};

process.exitCode = await main().catch((error: unknown) => {
  // e.g. DATA_DIRECTORY_LOCKED while npm start runs, or Postgres unreachable: the message says which
  console.error(error instanceof Error ? error.message : String(error));
  return 1;
});
