/**
 * The timeline of one object, as printed by `npm run history -- --name`: one line
 * per version (time, resourceVersion, type, source, complete marker, the decoded
 * paths that changed), and with --diff each op under it. Pure: the versions are
 * read by scripts/history.ts.
 */
import { changedPaths } from '../../lib/history-query/patch-paths.js'
import { renderOpLine, renderOps, type RenderedOp } from '../../lib/history-query/patch-render.js'
import type { HistoryVersion, ObjectKey } from '../../lib/history-query/types.js'
import { table } from './table.js'

export interface TimelineEntry {
  readonly observedAt: string
  readonly resourceVersion: string
  readonly type: HistoryVersion['type']
  readonly source: HistoryVersion['source']
  readonly complete: boolean
  readonly uid: string
  /** Decoded pointers into the object as served. */
  readonly paths: string[]
  /** Why there are no paths, when there are none. */
  readonly note?: string
  readonly ops: RenderedOp[]
}

/**
 * Every version changes metadata.resourceVersion, which has its own column: left
 * out of the printed paths and ops (the JSON output keeps every op).
 */
const OWN_COLUMN = '/metadata/resourceVersion'

export const objectLabel = (key: ObjectKey) =>
  `${key.resource} ${key.namespace === null ? '' : `${key.namespace}/`}${key.name}`

function noteFor(
  version: HistoryVersion,
  previous: HistoryVersion | undefined,
): string | undefined {
  if (version.patch.some((op) => op.path !== OWN_COLUMN)) return undefined
  if (!version.complete)
    return previous
      ? '(no patch: versions before this one were not recorded)'
      : '(first recorded version; it existed before, unrecorded)'
  if (!previous) return '(first recorded version)'
  if (version.type === 'DELETED') return '(deleted: the last state is kept)'
  return '(no change in the stored fields)'
}

/**
 * Entries oldest first. `base` is the version just before the window (--since),
 * the one the first patch in the window applies to when it has the same uid.
 */
export function timelineEntries(
  versions: readonly HistoryVersion[],
  base?: HistoryVersion,
): TimelineEntry[] {
  const lastByUid = new Map<string, HistoryVersion>()
  if (base) lastByUid.set(base.uid, base)
  return versions.map((version) => {
    const previous = lastByUid.get(version.uid)
    lastByUid.set(version.uid, version)
    const note = noteFor(version, previous)
    return {
      observedAt: version.observedAt.toISOString(),
      resourceVersion: version.resourceVersion,
      type: version.type,
      source: version.source,
      complete: version.complete,
      uid: version.uid,
      paths: changedPaths(version.patch),
      ...(note ? { note } : {}),
      ops: renderOps(version.patch, previous?.object),
    }
  })
}

/** The printed timeline: a header, aligned lines, and with `diff` each op indented under its line. */
export function timelineLines(key: ObjectKey, entries: readonly TimelineEntry[], diff: boolean) {
  const uids = new Set(entries.map((e) => e.uid))
  const header = `${objectLabel(key)} in cluster ${key.cluster}: ${entries.length} version${entries.length === 1 ? '' : 's'}${uids.size > 1 ? ` of ${uids.size} objects (uids) by that name` : ` (uid ${entries[0]?.uid})`}`
  let lastUid: string | undefined
  const shown = (paths: readonly string[]) => paths.filter((path) => path !== OWN_COLUMN)
  const rows = entries.map((e) => {
    const newUid = uids.size > 1 && e.uid !== lastUid ? ` [uid ${e.uid}]` : ''
    lastUid = e.uid
    return [
      e.observedAt,
      `rv ${e.resourceVersion}`,
      e.type,
      e.source,
      e.complete ? 'complete' : 'INCOMPLETE',
      `${shown(e.paths).join(', ') || (e.note ?? '')}${newUid}`,
    ]
  })
  const lines = table(rows)
  const out = [header]
  entries.forEach((entry, i) => {
    out.push(lines[i]!)
    if (diff)
      for (const op of entry.ops) if (op.path !== OWN_COLUMN) out.push(`    ${renderOpLine(op)}`)
  })
  return out
}
