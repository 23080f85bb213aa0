export { createTestDatabase, type TestDatabase } from './postgres.ts';
export { eventually } from './deadline.ts';
export { caught, rejection } from './caught.ts';
export { rewriteHistory } from './rewrite-history.ts';
