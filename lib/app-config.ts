import { getConfig } from './config.js'
import { logConfig } from './config-summary.js'
import { calculateBackoff, retryWithBackoff, sleep } from './retry.js'

/**
 * The spec's facade, so code written against its API reference works
 * unchanged: `AppConfig.retryWithBackoff(fn, 'Operation', { isFatal })`.
 */
export const AppConfig = Object.freeze({
  get config() {
    return getConfig()
  },
  retryWithBackoff,
  calculateBackoff: (attempt: number) => calculateBackoff(attempt),
  sleep: (ms: number, signal?: AbortSignal) => sleep(ms, signal),
  logConfig: () => logConfig(),
})
