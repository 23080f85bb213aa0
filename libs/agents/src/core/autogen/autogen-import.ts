import { teamSpecSchema, type TeamSpec, type TeamSpecInput } from '../spec/team-spec.ts';
import { importAgent } from './import-agent.ts';
import {
  ImportContext,
  isAutogenComponent,
  isObject,
  known,
  type AutogenImportOptions,
  type Component,
  type ImportIssue,
  type Json,
} from './import-context.ts';
import { importModel, type ModelInput } from './import-model.ts';
import { importTermination } from './import-termination.ts';

export { isAutogenComponent, type AutogenImportOptions, type ImportIssue } from './import-context.ts';

/**
 * An AutoGen component we cannot run (a web surfer, Python source, an unknown provider…). The
 * message names each JSON path and provider; the gateway answers 422 with it.
 */
export class UnsupportedComponent extends Error {
  readonly code = 'unsupported_component';
  readonly retryable = false;
  readonly issues: readonly ImportIssue[];
  constructor(issues: readonly ImportIssue[]) {
    super(
      `cannot run this AutoGen component: ${issues.map((i) => `${i.path} (${i.provider}): ${i.message}`).join('; ')}`,
    );
    this.name = 'UnsupportedComponent';
    this.issues = issues;
  }
}

/** Where a gallery keeps its teams: `items.teams` (older AutoGen Studio) or `components.teams`. */
const galleryTeamsKey = (value: unknown): 'items' | 'components' | null => {
  if (!isObject(value) || isAutogenComponent(value)) return null;
  for (const key of ['items', 'components'] as const) {
    const section = value[key];
    if (isObject(section) && Array.isArray(section['teams'])) return key;
  }
  return null;
};

/** An AutoGen Studio gallery (teams and components): a collection, not a component. */
export const isAutogenGallery = (value: unknown): boolean => galleryTeamsKey(value) !== null;

const importTeam = (ctx: ImportContext, c: Component, path: string): TeamSpecInput | undefined => {
  const cls = known(c.provider);
  const cfg = c.config;
  if (c.component_type === 'agent' || ['AssistantAgent', 'UserProxyAgent'].includes(cls ?? '')) {
    const agent = importAgent(ctx, c, path);
    return agent ? { specVersion: 1, name: agent.name, type: 'single', agents: [agent] } : undefined;
  }
  const type =
    cls === 'RoundRobinGroupChat'
      ? 'round_robin'
      : cls === 'SelectorGroupChat'
        ? 'selector'
        : cls === 'Swarm'
          ? 'swarm'
          : cls === 'MagenticOneGroupChat'
            ? 'magentic_one'
            : undefined;
  if (!type)
    return ctx.reject(
      path,
      c.provider,
      'not a team we can run (RoundRobinGroupChat, SelectorGroupChat, Swarm or MagenticOneGroupChat)',
    );
  for (const key of ['selector_func', 'candidate_func'])
    if (cfg[key] !== undefined && cfg[key] !== null)
      ctx.reject(`${path}.config.${key}`, c.provider, `${key} is Python code and cannot run here`);
  const participants = Array.isArray(cfg['participants']) ? cfg['participants'] : [];
  if (participants.length === 0)
    ctx.reject(`${path}.config.participants`, c.provider, 'a team needs participants');
  const agents = participants.flatMap((p, i) => {
    const at = `${path}.config.participants[${i}]`;
    const pc = ctx.component(p, at);
    const agent = pc ? importAgent(ctx, pc, at) : undefined;
    return agent ? [agent] : [];
  });
  const termination = cfg['termination_condition']
    ? importTermination(ctx, cfg['termination_condition'], `${path}.config.termination_condition`)
    : undefined;
  const teamModel =
    (type === 'selector' || type === 'magentic_one') && cfg['model_client']
      ? importModel(ctx, cfg['model_client'], `${path}.config.model_client`)
      : undefined;
  const name = typeof c.label === 'string' && c.label.trim() ? c.label.trim().slice(0, 128) : type;
  return {
    specVersion: 1,
    name,
    ...(typeof (c as Json)['description'] === 'string'
      ? { description: (c as Json)['description'] as string }
      : {}),
    type,
    agents,
    ...(termination ? { termination } : {}),
    ...(typeof cfg['max_turns'] === 'number' ? { maxTurns: cfg['max_turns'] } : {}),
    ...(type === 'selector'
      ? {
          selector: {
            ...(teamModel ? { model: teamModel } : {}),
            ...(typeof cfg['selector_prompt'] === 'string' ? { prompt: cfg['selector_prompt'] } : {}),
            allowRepeatedSpeaker: cfg['allow_repeated_speaker'] === true,
            ...(typeof cfg['max_selector_attempts'] === 'number'
              ? { maxSelectorAttempts: cfg['max_selector_attempts'] }
              : {}),
          },
        }
      : {}),
    ...(type === 'magentic_one' ? { magenticOne: magenticOneSettings(cfg, teamModel) } : {}),
  };
};

/** MagenticOneGroupChat's `max_stalls` and `final_answer_prompt` (`max_turns` is the team's). */
const magenticOneSettings = (cfg: Json, model: ModelInput | undefined) => ({
  ...(model ? { model } : {}),
  ...(typeof cfg['max_stalls'] === 'number' ? { maxStalls: cfg['max_stalls'] } : {}),
  ...(typeof cfg['final_answer_prompt'] === 'string'
    ? { finalAnswerPrompt: cfg['final_answer_prompt'] }
    : {}),
});

/**
 * Translates an AutoGen AgentChat component (a team, or a single agent) into our team spec.
 * FunctionTools bind by name to registered tools; anything we cannot run is rejected with
 * `UnsupportedComponent` naming each JSON path and provider. The result is validated by our schema.
 */
export const importAutogenComponent = (json: unknown, options: AutogenImportOptions): TeamSpec => {
  if (isAutogenGallery(json))
    throw new UnsupportedComponent([
      {
        path: '$',
        provider: '(gallery)',
        message: `this is an AutoGen Studio gallery, not a component; import one of $.${galleryTeamsKey(json)}.teams[i]`,
      },
    ]);
  const importer = new ImportContext(options);
  const root = importer.component(json, '$');
  const input = root ? importTeam(importer, root, '$') : undefined;
  if (importer.issues.length > 0 || !input) throw new UnsupportedComponent(importer.issues);
  const parsed = teamSpecSchema.safeParse(input);
  if (!parsed.success)
    throw new UnsupportedComponent(
      parsed.error.issues.map((i) => ({
        path: '$',
        provider: root?.provider ?? '(none)',
        message: `translated spec is invalid at ${i.path.join('.') || '(root)'}: ${i.message}`,
      })),
    );
  return parsed.data;
};

export type GalleryImport = Readonly<{
  path: string;
  label: string;
  result: Readonly<{ ok: true; spec: TeamSpec }> | Readonly<{ ok: false; error: UnsupportedComponent }>;
}>;

/** Imports every team of an AutoGen Studio gallery, each on its own (paths are gallery-relative). */
export const importAutogenGallery = (
  json: unknown,
  options: AutogenImportOptions,
): readonly GalleryImport[] => {
  if (!isAutogenGallery(json))
    throw new UnsupportedComponent([
      { path: '$', provider: '(none)', message: 'not an AutoGen Studio gallery' },
    ]);
  const key = galleryTeamsKey(json)!;
  const teams = ((json as Json)[key] as Json)['teams'] as unknown[];
  return teams.map((team, i) => {
    const path = `$.${key}.teams[${i}]`;
    const label = isAutogenComponent(team) ? String(team.label ?? team.provider) : path;
    try {
      return { path, label, result: { ok: true, spec: importAutogenComponent(team, options) } };
    } catch (error) {
      if (!(error instanceof UnsupportedComponent)) throw error;
      const rebased = new UnsupportedComponent(
        error.issues.map((issue) => ({ ...issue, path: issue.path.replace(/^\$/, path) })),
      );
      return { path, label, result: { ok: false, error: rebased } };
    }
  });
};
