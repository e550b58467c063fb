// Awaits something that must be refused with a HardenError, and returns the error for its message and hint.
import * as assert from 'uvu/assert';
import { HardenError } from '../../src/errors.js';

export async function refusal(promise: Promise<unknown>): Promise<HardenError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, HardenError);
    return error as HardenError;
  }
  assert.unreachable('expected a refusal');
  throw new Error('unreachable');
}
