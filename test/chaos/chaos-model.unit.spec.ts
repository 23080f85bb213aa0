import { afterEach, describe, expect, it } from 'vitest';
import { startChaosModel, type ChaosModel } from './chaos-model.ts';
import type { Random } from './random.ts';

/** A `Random` whose `next` always gives `value`: 0 makes every fault strike, 0.99 none. */
const fixed = (value: number): Random => ({
  next: () => value,
  int: (min) => min,
  pick: (items) => items[0]!,
  fork: () => fixed(value),
});

/** One chat completion as the `openai` SDK sends it: the call's key and the SDK's retry count. */
const ask = (model: ChaosModel, key: string, retry: number, baseUrl = model.baseUrl): Promise<number> =>
  fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': key,
      'x-stainless-retry-count': String(retry),
    },
    body: JSON.stringify({ model: 'chaos', messages: [{ role: 'user', content: 'hello' }] }),
  }).then(async (response) => (await response.text(), response.status));

describe('the chaos model', () => {
  let model: ChaosModel | undefined;

  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  it('marks an answer the model client asked for again after an answered attempt', async () => {
    model = await startChaosModel(fixed(0.99));
    expect(await ask(model, 'k1', 0)).toBe(200);
    expect(await ask(model, 'k1', 1)).toBe(200);
    // Another replica asking afresh (retry count 0) is no retry of the client's own.
    expect(await ask(model, 'k1', 0)).toBe(200);
    expect(
      model
        .paid()
        .get('k1')
        ?.map((answer) => answer.retriedAnswer),
    ).toEqual([false, true, false]);
  });

  it('records which replica asked, from the path of its base URL', async () => {
    model = await startChaosModel(fixed(0.99));
    expect(await ask(model, 'k3', 0, model.baseUrlFor('replica-b'))).toBe(200);
    expect(await ask(model, 'k3', 0)).toBe(200);
    expect(
      model
        .paid()
        .get('k3')
        ?.map((answer) => answer.replica),
    ).toEqual(['replica-b', '']);
  });

  it('does not mark a retry that follows a refused attempt (429 or 500)', async () => {
    const random = { value: 0 };
    model = await startChaosModel({ ...fixed(0), next: () => random.value });
    model.setFault('rate-limit');
    expect(await ask(model, 'k2', 0)).toBe(429);
    random.value = 0.99;
    expect(await ask(model, 'k2', 1)).toBe(200);
    expect(
      model
        .paid()
        .get('k2')
        ?.map((answer) => answer.retriedAnswer),
    ).toEqual([false]);
  });
});
