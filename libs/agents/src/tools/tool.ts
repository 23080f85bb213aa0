import { z } from 'zod';
import type { ToolSchema } from '../core/model/model-client.port.ts';

/** What a running tool knows about the work it does. */
export type ToolContext = Readonly<{
  /** `<sessionId>:<toolCallId>`: pass it to the outside world so a retry is recognised. */
  idempotencyKey: string;
  tenantId: string;
  sessionId: string;
  toolCallId: string;
  agent: string;
  /** Aborted on timeout, cancel or shutdown. */
  signal: AbortSignal;
}>;

export type ToolDefinition<P extends z.ZodType> = Readonly<{
  name: string;
  description: string;
  parameters: P;
  /** Safe to run again after a crash (the outside world dedupes by the idempotency key). */
  idempotent: boolean;
  /** Per call, when it depends on the arguments (e.g. the HTTP method); default: `idempotent`. */
  idempotentFor?: (args: z.output<P>) => boolean;
  /** A human must approve each call (ToolApprovalRequested → granted/denied). */
  requiresApproval: boolean;
  /** Per-call time limit; default 30 s. */
  timeoutMs?: number;
  execute: (args: z.output<P>, ctx: ToolContext) => unknown;
}>;

/** A registered tool: its definition, and the JSON schema the model sees (derived from zod). */
export type Tool = Readonly<{
  name: string;
  description: string;
  idempotent: boolean;
  /** Whether one call (its parsed arguments) is safe to run again after a crash. */
  callIdempotent: (args: unknown) => boolean;
  requiresApproval: boolean;
  timeoutMs: number;
  parameters: z.ZodType;
  schema: ToolSchema;
  execute: (args: unknown, ctx: ToolContext) => Promise<unknown>;
}>;

const toolName = /^[A-Za-z0-9_-]{1,64}$/;

/** Defines a tool; its JSON schema is derived once from the zod parameters. */
export const defineTool = <P extends z.ZodType>(definition: ToolDefinition<P>): Tool => {
  if (!toolName.test(definition.name)) throw new Error(`invalid tool name "${definition.name}"`);
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(definition.parameters, {
    io: 'input',
  }) as Record<string, unknown>;
  return Object.freeze({
    name: definition.name,
    description: definition.description,
    idempotent: definition.idempotent,
    callIdempotent: (args: unknown) =>
      definition.idempotentFor ? definition.idempotentFor(args as z.output<P>) : definition.idempotent,
    requiresApproval: definition.requiresApproval,
    timeoutMs: definition.timeoutMs ?? 30_000,
    parameters: definition.parameters,
    schema: { name: definition.name, description: definition.description, parameters },
    execute: async (args: unknown, ctx: ToolContext) => definition.execute(args as z.output<P>, ctx),
  });
};

/** Resolves tools by name. Immutable: `with` returns a new registry. */
export type ToolRegistry = Readonly<{
  get: (name: string) => Tool | undefined;
  has: (name: string) => boolean;
  names: () => readonly string[];
  with: (...tools: readonly Tool[]) => ToolRegistry;
}>;

export const createToolRegistry = (tools: readonly Tool[] = []): ToolRegistry => {
  const byName = new Map<string, Tool>();
  for (const tool of tools) byName.set(tool.name, tool);
  return Object.freeze({
    get: (name: string) => byName.get(name),
    has: (name: string) => byName.has(name),
    names: () => [...byName.keys()],
    with: (...more: readonly Tool[]) => createToolRegistry([...byName.values(), ...more]),
  });
};
