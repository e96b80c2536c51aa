/**
 * `timeoutSeconds` of one watch request: K8S_WATCH_TIMEOUT_MS spread down by
 * up to 10 % (client-go's reflector randomises watch timeouts, between
 * minWatchTimeout and twice that, so clients started together do not come
 * back together; ours may not exceed the configured longest, so the spread
 * goes down), and never past the window's end (rounded up: the window's own
 * timer closes the stream at the exact end).
 */
export function watchTimeoutSeconds(
  watchTimeoutMs: number,
  msLeftInWindow: number,
  random: () => number,
): number {
  const spread = watchTimeoutMs * (1 - WATCH_TIMEOUT_SPREAD * random())
  return Math.max(1, Math.ceil(Math.min(spread, msLeftInWindow) / 1000))
}

const WATCH_TIMEOUT_SPREAD = 0.1
