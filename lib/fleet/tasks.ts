import * as z from 'zod'
import {
  parseRegistryEntries,
  RegistryError,
  resourceIds,
  type ClusterEntry,
} from './registry-schema.js'
import { fleetClusterOf, type FleetCluster } from './registry.js'

/*
 * The work queues' message bodies (docs/design.md#fleets-reconcile-and-watch-with-a-registry). A task carries its
 * cluster's registry entry (names, ids and ARNs; never a credential), so a
 * worker needs no registry look-up: no secret fetch, no EKS discovery per
 * task. A body that does not parse fails its record, and after three
 * receives the queue moves it to the dead-letter queue, where it is kept.
 */

export const TASK_VERSION = 1

/** A registry entry as a task carries it: resources as ids; `configured` = the worker's own settings. */
const taskCluster = z.looseObject({ name: z.string(), configured: z.boolean().optional() })

const plannedAt = z.iso.datetime()

const reconcileTask = z.strictObject({
  v: z.literal(TASK_VERSION),
  kind: z.literal('reconcile'),
  cluster: taskCluster,
  resource: z.string(),
  plannedAt,
  namespaces: z.array(z.string()).optional(),
  dryRun: z.boolean().optional(),
  confirmDeletes: z.boolean().optional(),
})

const watchTask = z.strictObject({
  v: z.literal(TASK_VERSION),
  kind: z.literal('watch'),
  clusters: z.array(taskCluster).min(1).max(100),
  plannedAt,
  resources: z.array(z.string()).optional(),
  windowSeconds: z.number().int().min(1).max(900).optional(),
})

export type ReconcileTaskBody = z.output<typeof reconcileTask>
export type WatchTaskBody = z.output<typeof watchTask>

/** A task whose body is not one we send: named by its message id, never by its content. */
export class MalformedTaskError extends Error {
  override readonly name = 'MalformedTaskError'
}

/** The registry entry a task carries, from a fleet cluster. */
export function taskClusterOf(cluster: FleetCluster): Record<string, unknown> {
  if (cluster.credentials === 'configured') {
    return { name: cluster.name, configured: true, resources: cluster.resources.map((r) => r.id) }
  }
  return {
    name: cluster.name,
    ...cluster.credentials,
    resources: cluster.resources.map((r) => r.id),
    ...(cluster.namespaces ? { namespaces: cluster.namespaces } : {}),
  }
}

/** The fleet cluster a task names, validated like a registry entry. */
export function fleetClusterOfTask(
  raw: z.output<typeof taskCluster>,
  defaults: FleetCluster['resources'],
): FleetCluster {
  const { configured, ...rest } = raw
  const source = `task cluster "${raw.name}"`
  if (configured) {
    const resources = resourceIds.optional().safeParse(rest.resources)
    if (!resources.success) throw new RegistryError(source, ['"resources": not resource ids'])
    return { name: raw.name, resources: resources.data ?? defaults, credentials: 'configured' }
  }
  const [entry] = parseRegistryEntries([rest], source) as [ClusterEntry]
  return fleetClusterOf(entry, defaults)
}

function parseBody<S extends z.ZodType>(schema: S, body: string, kind: string): z.output<S> {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    throw new MalformedTaskError(`not a ${kind} task: the body is not JSON`)
  }
  const result = schema.safeParse(json)
  if (result.success) return result.data
  const fields = result.error.issues.map((i) => i.path.join('.') || '(body)').join(', ')
  throw new MalformedTaskError(
    `not a ${kind} task (version ${TASK_VERSION}): bad field(s) ${fields}`,
  )
}

export const parseReconcileTask = (body: string): ReconcileTaskBody =>
  parseBody(reconcileTask, body, 'reconcile')

export const parseWatchTask = (body: string): WatchTaskBody => parseBody(watchTask, body, 'watch')
