export { createSqlSessionIndex } from './sql-session-index.ts';
