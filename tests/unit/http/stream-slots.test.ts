import { describe, expect, it } from 'vitest';
import { StreamSlots } from '../../../src/http/routes/chat';
import { AppError } from '../../../src/shared/errors';

describe('chat stream slots', () => {
  it('holds at most max streams per user, each released once, other users apart', () => {
    const slots = new StreamSlots(2);
    const a1 = slots.take('alice');
    slots.take('alice');
    let refused: unknown;
    try {
      slots.take('alice');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).toBody()).toEqual({ code: 'TOO_MANY_CONNECTIONS', message: 'Too many open streams', details: { max: 2 } });
    expect(() => slots.take('bob')).not.toThrow();
    a1();
    a1(); // a second release frees nothing more
    expect(() => slots.take('alice')).not.toThrow();
    expect(() => slots.take('alice')).toThrow(AppError);
  });
});
