export { decideApprovalUseCase, type ApprovalInput } from './decide-approval.ts';
