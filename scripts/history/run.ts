/**
 * What `npm run history` does once its options are checked and the database is
 * connected: one of three questions, each answered from object_history.
 */
import type { Db } from 'mongodb'
import {
  nextVersionAfter,
  objectVersions,
  recordedSpan,
  resourceRecorded,
  versionAsOf,
  versionBefore,
} from '../../lib/history-query/object-history.js'
import { resourceStateAsOf } from '../../lib/history-query/resource-state.js'
import type { ObjectKey } from '../../lib/history-query/types.js'
import { asOfAnswer, asOfText } from './as-of.js'
import type { HistoryOptions } from './cli-options.js'
import { resourceStateLines } from './resource-table.js'
import { objectLabel, timelineEntries, timelineLines } from './timeline.js'

/** Nothing recorded for what was asked: exit 3, with what is known instead. */
export class NothingRecorded extends Error {
  override readonly name = 'NothingRecorded'
}

export interface Output {
  readonly stdout: string[]
  readonly stderr: string[]
}

const resourceUnknown = (cluster: string, resource: string) =>
  `nothing recorded for ${resource} in cluster ${cluster}: is the resource id as in HISTORY_RESOURCES, and the cluster right (--cluster, default CLUSTER_NAME)?`

async function nothingRecorded(db: Db, key: ObjectKey, window: string): Promise<NothingRecorded> {
  const label = `${objectLabel(key)} in cluster ${key.cluster}`
  const span = await recordedSpan(db, key)
  if (span)
    return new NothingRecorded(
      `nothing recorded for ${label} ${window}: its versions span ${span.first.toISOString()} to ${span.last.toISOString()}`,
    )
  if (!(await resourceRecorded(db, key.cluster, key.resource)))
    return new NothingRecorded(resourceUnknown(key.cluster, key.resource))
  const scope =
    key.namespace === null ? ' (no --namespace was given: is the object namespaced?)' : ''
  return new NothingRecorded(
    `nothing recorded for ${label}${scope}: no version of that name within HISTORY_RETENTION_DAYS`,
  )
}

async function timeline(db: Db, key: ObjectKey, options: HistoryOptions): Promise<Output> {
  // The objects are read only to derive old values (--diff, --json): the paths come from the patches.
  const withObjects = options.diff || options.json
  const versions = await objectVersions(db, key, options.since, { withObjects })
  if (versions.length === 0)
    throw await nothingRecorded(db, key, `since ${options.since?.toISOString() ?? 'ever'}`)
  // The version before the window: the base of the first patch, and of its "first version?" note.
  const base = options.since ? await versionBefore(db, key, options.since) : undefined
  const entries = timelineEntries(versions, base)
  if (options.json)
    return { stdout: [JSON.stringify({ ...key, versions: entries }, null, 2)], stderr: [] }
  return { stdout: timelineLines(key, entries, options.diff), stderr: [] }
}

async function objectAsOf(db: Db, key: ObjectKey, at: Date, json: boolean): Promise<Output> {
  const version = await versionAsOf(db, key, at)
  if (!version) throw await nothingRecorded(db, key, `at or before ${at.toISOString()}`)
  const answer = asOfAnswer(at, version, await nextVersionAfter(db, key, at))
  if (json) return { stdout: [JSON.stringify(answer, null, 2)], stderr: [] }
  const { header, body } = asOfText(key, answer)
  return { stdout: [body], stderr: header ? [header] : [] }
}

async function resourceAsOf(db: Db, cluster: string, options: HistoryOptions, at: Date) {
  const query = {
    cluster,
    resource: options.resource,
    at,
    ...(options.namespaceGiven ? { namespace: options.namespace } : {}),
  }
  const state = await resourceStateAsOf(db, query)
  if (state.rows.length === 0 && !(await resourceRecorded(db, cluster, options.resource)))
    throw new NothingRecorded(resourceUnknown(cluster, options.resource))
  if (options.json) return { stdout: [JSON.stringify({ ...query, ...state }, null, 2)], stderr: [] }
  const where = options.namespaceGiven ? ` in namespace ${options.namespace ?? '(none)'}` : ''
  const label = `${options.resource}${where} in cluster ${cluster}`
  return { stdout: resourceStateLines(label, at, state), stderr: [] }
}

export async function runHistory(
  db: Db,
  cluster: string,
  options: HistoryOptions,
): Promise<Output> {
  if (options.name === undefined) return resourceAsOf(db, cluster, options, options.asOf!)
  const key: ObjectKey = {
    cluster,
    resource: options.resource,
    namespace: options.namespace,
    name: options.name,
  }
  if (options.asOf) return objectAsOf(db, key, options.asOf, options.json)
  return timeline(db, key, options)
}
