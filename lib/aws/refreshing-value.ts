import { errorFields, logger } from '../log.js'

/** A loaded value and the time (epoch ms) after which it must not be used. */
export interface Expiring<T> {
  readonly value: T
  readonly expiresAt: number
}

export interface RefreshingValueOptions {
  /** Reload this long before `expiresAt`; until `expiresAt` a failed reload keeps the old value. */
  readonly refreshBeforeMs?: number
  /** Names the value in the log line of a failed early reload. */
  readonly what: string
  readonly now?: () => number
}

/**
 * A value loaded once and reused until shortly before it expires: temporary
 * credentials, a fetched secret. Concurrent callers share one load, so a
 * burst of clusters starting at once makes one STS or Secrets Manager call,
 * not one each. A reload that fails while the old value is still valid serves
 * the old value (a brief STS outage costs nothing); once it has expired, the
 * failure is the caller's.
 */
export function refreshingValue<T>(
  load: () => Promise<Expiring<T>>,
  options: RefreshingValueOptions,
): () => Promise<T> {
  const now = options.now ?? Date.now
  const refreshBeforeMs = options.refreshBeforeMs ?? 0
  let current: Expiring<T> | undefined
  let pending: Promise<Expiring<T>> | undefined

  const reload = (): Promise<Expiring<T>> =>
    (pending ??= load()
      .then((loaded) => (current = loaded))
      .finally(() => {
        pending = undefined
      }))

  return async () => {
    const at = now()
    if (current && current.expiresAt - at > refreshBeforeMs) return current.value
    const stale = current && current.expiresAt > at ? current : undefined
    if (!stale) return (await reload()).value
    try {
      return (await reload()).value
    } catch (error) {
      logger.warn('refresh failed; the current value is still valid', {
        event: 'refresh_failed_kept_current',
        what: options.what,
        expiresInMs: stale.expiresAt - at,
        ...errorFields(error),
      })
      return stale.value
    }
  }
}
