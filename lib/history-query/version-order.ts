/**
 * Which of two versions came later: `observedAt`, then the resourceVersion (as
 * integers where both are decimal, lib/store/documents/resource-version.ts).
 * Versions of one watch batch may share an `observedAt` to the millisecond; the
 * resourceVersion orders them, as the API server did.
 */
import { compareResourceVersions } from '../store/documents/resource-version.js'

export interface Ordered {
  readonly observedAt: Date
  readonly resourceVersion: string
}

/** Negative when `a` is older, positive when newer, 0 when the same version. */
export function compareObserved(a: Ordered, b: Ordered): number {
  const byTime = a.observedAt.getTime() - b.observedAt.getTime()
  if (byTime !== 0) return byTime
  if (a.resourceVersion === b.resourceVersion) return 0
  return compareResourceVersions(a.resourceVersion, b.resourceVersion) > 0 ? 1 : -1
}

/** The latest of `versions` (undefined when empty). */
export function latestOf<T extends Ordered>(versions: Iterable<T>): T | undefined {
  let latest: T | undefined
  for (const v of versions) if (!latest || compareObserved(v, latest) > 0) latest = v
  return latest
}
