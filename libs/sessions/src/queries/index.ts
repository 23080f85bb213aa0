export {
  sessionQueriesUseCase,
  type AuditView,
  type EventPage,
  type ListSessionsInput,
} from './session-queries.ts';
