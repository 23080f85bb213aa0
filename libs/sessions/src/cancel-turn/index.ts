export { cancelTurnUseCase } from './cancel-turn.ts';
