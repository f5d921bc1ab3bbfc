import { describe, expect, it } from '@jest/globals';
import { statusOnAbort } from '@shipgate/protocol';

describe('statusOnAbort', () => {
  const abortedBy = (reason?: unknown) => {
    const controller = new AbortController();
    controller.abort(reason);
    return controller.signal;
  };
  it.each<[string, AbortSignal, string]>([
    ['a TimeoutError is a time-out', abortedBy(new DOMException('step took too long', 'TimeoutError')), 'timed-out'],
    ['an AbortError is a cancel', abortedBy(new DOMException('stop', 'AbortError')), 'cancelled'],
    ['a plain Error is a cancel', abortedBy(new Error('cancelled')), 'cancelled'],
    ['the default reason is a cancel', abortedBy(), 'cancelled'],
    ['a string reason is a cancel', abortedBy('TimeoutError'), 'cancelled'],
  ])('%s', (_name, signal, status) => {
    expect(statusOnAbort(signal)).toBe(status);
  });

  it('reads AbortSignal.timeout as a time-out', async () => {
    const signal = AbortSignal.timeout(1);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    expect(statusOnAbort(signal)).toBe('timed-out');
  });
});
