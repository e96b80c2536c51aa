/**
 * The object as it was at T (`--as-of` with `--name`): the latest version observed
 * at or before T, decoded back to the keys Kubernetes serves. A DELETED latest
 * version means the object did not exist then; the version after T, when it is
 * incomplete, says the answer may miss changes made in between.
 */
import { decodeKeys } from '../../lib/store/documents/key-encoding.js'
import type { VersionSummary } from '../../lib/history-query/object-history.js'
import type { HistoryVersion, ObjectKey } from '../../lib/history-query/types.js'
import { objectLabel } from './timeline.js'

export interface AsOfAnswer {
  readonly asOf: string
  readonly exists: boolean
  readonly version: Omit<VersionSummary, '_id' | 'observedAt'> & { observedAt: string }
  /** The object then, keys decoded (absent when it did not exist). */
  readonly object?: Record<string, unknown>
  /** Set when the next recorded version is incomplete. */
  readonly caveat?: string
}

export function asOfAnswer(
  at: Date,
  version: HistoryVersion,
  next: VersionSummary | undefined,
): AsOfAnswer {
  const { _id: _ignored, object, patch: _patch, ...summary } = version
  const exists = version.type !== 'DELETED'
  const caveat =
    next && !next.complete
      ? `the next recorded version (rv ${next.resourceVersion} at ${next.observedAt.toISOString()}) is incomplete: the object may have changed between ${at.toISOString()} and then without a record`
      : undefined
  return {
    asOf: at.toISOString(),
    exists,
    version: { ...summary, observedAt: version.observedAt.toISOString() },
    ...(exists ? { object: decodeKeys(object) } : {}),
    ...(caveat ? { caveat } : {}),
  }
}

/** Human output: `header` for stderr (so stdout is the object alone, for jq), `body` for stdout. */
export function asOfText(key: ObjectKey, answer: AsOfAnswer): { header: string; body: string } {
  const v = answer.version
  const label = objectLabel(key)
  const recorded = `${v.type} by ${v.source}${v.complete ? '' : ', incomplete'}`
  if (!answer.exists)
    return {
      header: '',
      body: `${label} did not exist at ${answer.asOf}: deleted at ${v.observedAt} (rv ${v.resourceVersion}, uid ${v.uid})`,
    }
  const header = [
    `# ${label} in cluster ${key.cluster} as of ${answer.asOf}: rv ${v.resourceVersion} observed at ${v.observedAt} (${recorded}), uid ${v.uid}`,
    ...(answer.caveat ? [`# note: ${answer.caveat}`] : []),
  ].join('\n')
  return { header, body: JSON.stringify(answer.object, null, 2) }
}
