export {
  createSessionContext,
  dataOf,
  type Caller,
  type Key,
  type SessionContext,
  type SessionUseCaseDeps,
  type SpecCheck,
  type SpecIssue,
  type TeamSpecs,
} from './session-context.ts';
export { derivedId } from './derived-ids.ts';
export * from './session-views.ts';
