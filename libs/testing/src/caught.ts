/**
 * The error `run` throws, for assertions on its fields; a test fails when nothing is thrown (so a
 * check written after it can never pass vacuously).
 */
export const caught = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, none was thrown');
};

/** {@link caught} for a promise: the rejection, or a failure when it resolves. */
export const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, the promise resolved');
};
