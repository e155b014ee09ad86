/**
 * When a failed delivery is tried again: exponential-ish steps with ±20% jitter (so endpoints
 * that failed together do not all retry in the same second), ten attempts over about a day.
 * With the default base of 30 s: 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h.
 * Shared by webhooks and chat messages.
 */
const STEPS = [1, 4, 20, 60, 120, 240, 480, 960, 960];
const JITTER = 0.2;

export const MAX_ATTEMPTS = STEPS.length + 1;

/** When attempt `attempt + 1` is due after attempt `attempt` failed, or null when it was the last. */
export function nextAttemptAt(attempt: number, baseMs: number, now = Date.now(), random = Math.random): Date | null {
  const step = STEPS[attempt - 1];
  if (step === undefined) return null;
  const delay = step * baseMs;
  return new Date(now + delay + delay * JITTER * (2 * random() - 1));
}
