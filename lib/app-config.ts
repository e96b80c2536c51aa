import { getConfig } from './config.js'
import { logConfig } from './config-summary.js'
import {
  calculateBackoff,
  retryWithBackoff,
  sleep,
  type RetryOptions,
  type RetryPolicy,
} from './retry.js'

/** The fault-tolerance contract's retry options: the policy is optional here, the configured RETRY_* values by default. */
export type AppRetryOptions = Omit<RetryOptions, 'policy'> & { readonly policy?: RetryPolicy }

/**
 * The fault-tolerance contract's facade (docs/resilience.md), so code written against its API works
 * unchanged: `AppConfig.retryWithBackoff(fn, 'Operation', { isFatal })` retries any error
 * `isFatal` does not call fatal, with the configured RETRY_* backoff, and throws the last one
 * after RETRY_MAX_ATTEMPTS attempts. Without `isFatal`, the project's fatal classification
 * decides (isKnownFatal: credentials, permissions, bad input, MongoDB code 18, ...). It is
 * the edge that reads the configuration; lib/retry.ts takes the policy it is given.
 */
export const AppConfig = Object.freeze({
  get config() {
    return getConfig()
  },
  retryWithBackoff: <T>(
    fn: (attempt: number) => Promise<T>,
    operation: string,
    options: AppRetryOptions = {},
  ): Promise<T> =>
    retryWithBackoff(fn, operation, { ...options, policy: options.policy ?? getConfig().retry }),
  calculateBackoff: (attempt: number) => calculateBackoff(attempt, getConfig().retry),
  sleep: (ms: number, signal?: AbortSignal) => sleep(ms, signal),
  logConfig: () => logConfig(getConfig()),
})
