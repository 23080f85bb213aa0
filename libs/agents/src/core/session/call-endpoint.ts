import { DEFAULT_ENDPOINT } from '../spec/model-endpoints.ts';
import type { ModelSpec } from '../spec/team-spec.ts';

/** The endpoint and model a call uses, recorded in `ModelCallRequested` (never the key). */
export const endpointOf = (model: ModelSpec | undefined): { endpoint?: string; model?: string } =>
  model && model.provider !== 'scripted'
    ? { endpoint: model.endpoint ?? DEFAULT_ENDPOINT, model: model.model }
    : {};
