export { postMessageUseCase, type PostMessageInput, type PostMessageResult } from './post-message.ts';
