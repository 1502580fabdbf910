/** Assertions on thrown SentinelErrors: the stable code, and the words a person needs in the message. */
import { expect } from 'vitest';
import { SentinelError, type ErrorCode } from '../../src/errors/index.js';

function check(err: unknown, code: ErrorCode, message?: RegExp | string): SentinelError {
  expect(err, 'a SentinelError').toBeInstanceOf(SentinelError);
  const e = err as SentinelError;
  expect(e.code).toBe(code);
  if (message !== undefined) expect(e.message).toMatch(message);
  return e;
}

/** Run `fn`, expect it to throw a SentinelError with `code`, return it for further checks. */
export function expectSentinelError(fn: () => unknown, code: ErrorCode, message?: RegExp | string): SentinelError {
  try {
    fn();
  } catch (err) {
    return check(err, code, message);
  }
  throw new Error(`expected a ${code} SentinelError, nothing was thrown`);
}

export async function expectSentinelRejection(promise: Promise<unknown>, code: ErrorCode, message?: RegExp | string): Promise<SentinelError> {
  try {
    await promise;
  } catch (err) {
    return check(err, code, message);
  }
  throw new Error(`expected a ${code} SentinelError, the promise resolved`);
}
