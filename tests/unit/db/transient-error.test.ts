import { describe, expect, it } from 'vitest';
import { isTransientDbError } from '../../../src/db/transient-error';

const withCode = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('isTransientDbError', () => {
  it('is true when the connection was lost or the server refused the moment', () => {
    expect(isTransientDbError(withCode('read ECONNRESET', 'ECONNRESET'))).toBe(true);
    expect(isTransientDbError(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true);
    expect(isTransientDbError(withCode('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientDbError(withCode('terminating connection due to administrator command', '57P01'))).toBe(true);
    expect(isTransientDbError(withCode('could not serialize access', '40001'))).toBe(true);
  });

  it('is false for errors the statement itself causes', () => {
    expect(isTransientDbError(withCode('duplicate key value violates unique constraint', '23505'))).toBe(false);
    expect(isTransientDbError(withCode('invalid byte sequence for encoding "UTF8"', '22021'))).toBe(false);
    expect(isTransientDbError(withCode('Turn not found'))).toBe(false);
    expect(isTransientDbError('not an error')).toBe(false);
  });
});
