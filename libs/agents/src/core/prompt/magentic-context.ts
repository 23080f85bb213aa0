import type { ModelMessage } from '../model/model-client.port.ts';
import type { ModelCallState, Session, ThreadItem } from '../session/session.state.ts';
import {
  DEFAULT_FINAL_ANSWER_PROMPT,
  MAGENTIC_ORCHESTRATOR,
  type ModelSpec,
  type TeamSpec,
} from '../spec/team-spec.ts';
import { magenticPrompts, participantNames, teamDescription } from '../team/magentic-one.prompts.ts';

/** Ids of the orchestrator's calls: derived from the work, like every other call id. */
export const magenticCallIds = {
  facts: (turnId: string, outerLoop: number): string => `${turnId}.l${outerLoop}.facts`,
  plan: (turnId: string, outerLoop: number): string => `${turnId}.l${outerLoop}.plan`,
  ledger: (turnId: string, round: number, attempt: number): string => `${turnId}.r${round}.ledger${attempt}`,
  final: (turnId: string): string => `${turnId}.final`,
} as const;

/** Where the current outer loop's thread starts for a call of the running turn (0 outside Magentic-One). */
export const threadStartFor = (state: Session, turnId: string): number =>
  state.turn?.turnId === turnId ? (state.turn.magentic?.threadStart ?? 0) : 0;

/**
 * AutoGen's `_thread_to_context`: the outer loop's chat messages (tool exchanges left out); the
 * orchestrator's own as assistant messages, everyone else's as user messages named by source.
 */
const threadToContext = (thread: readonly ThreadItem[], start: number, end: number): ModelMessage[] =>
  thread.slice(start, end).flatMap((item): ModelMessage[] => {
    if (item.kind !== 'message') return [];
    if (item.source === MAGENTIC_ORCHESTRATOR) return [{ role: 'assistant', content: item.content }];
    return [
      item.source === 'user'
        ? { role: 'user', content: item.content }
        : { role: 'user', content: item.content, name: item.source },
    ];
  });

/**
 * The messages of an orchestrator call, rebuilt from state: the planning conversation (facts, then
 * plan) on the first outer loop; on a re-plan, the thread then the facts-update and plan-update
 * prompts; the thread then the progress-ledger or final-answer prompt otherwise.
 */
export const buildOrchestratorContext = (
  spec: TeamSpec,
  state: Session,
  call: ModelCallState,
): readonly ModelMessage[] => {
  const magentic = state.turn?.turnId === call.turnId ? state.turn.magentic : undefined;
  if (!magentic) return [];
  const task = magentic.task;
  const team = teamDescription(spec.agents);
  const thread = threadToContext(state.thread, magentic.threadStart, call.contextLength);
  const outerLoop = call.iteration - 1;
  const factsPrompt: ModelMessage =
    outerLoop === 0
      ? { role: 'user', content: magenticPrompts.facts(task) }
      : { role: 'user', content: magenticPrompts.factsUpdate(task, magentic.facts ?? '') };
  const planning = outerLoop === 0 ? [factsPrompt] : [...thread, factsPrompt];
  switch (call.purpose) {
    case 'task_facts':
      return planning;
    case 'task_plan': {
      const facts = state.modelCalls[magenticCallIds.facts(call.turnId, outerLoop)]?.content ?? '';
      const planPrompt = outerLoop === 0 ? magenticPrompts.plan(team) : magenticPrompts.planUpdate(team);
      return [...planning, { role: 'assistant', content: facts }, { role: 'user', content: planPrompt }];
    }
    case 'progress_ledger':
      return [
        ...thread,
        { role: 'user', content: magenticPrompts.progress(task, team, participantNames(spec.agents)) },
      ];
    case 'final_answer': {
      const template = spec.magenticOne?.finalAnswerPrompt ?? DEFAULT_FINAL_ANSWER_PROMPT;
      return [...thread, { role: 'user', content: magenticPrompts.finalAnswer(template, task) }];
    }
    default:
      return [];
  }
};

/** The orchestrator's model: `magenticOne.model`, else the first assistant's (AutoGen's `model_client`). */
export const orchestratorModel = (spec: TeamSpec): ModelSpec | undefined => {
  const firstAssistant = spec.agents.find((a) => a.kind === 'assistant');
  return spec.magenticOne?.model ?? (firstAssistant?.kind === 'assistant' ? firstAssistant.model : undefined);
};
