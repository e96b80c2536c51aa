import * as z from 'zod'
import { MAX_NAMESPACES, MAX_RESOURCES, namespacePattern, unique } from '../input-limits.js'
import { parseResourceRef } from '../resource-ref.js'
import { SyncError } from '../errors.js'
import { clusterNamePattern, MAX_CLUSTERS } from '../fleet/registry-schema.js'

/*
 * What a person (or the cron rule) may send to the functions. Unknown fields
 * and wrong types are rejected with a message naming the field: a typo like
 * `dryrun` must not silently run a real, writing sync.
 */

const resourceId = z.string().refine((s) => parseResourceRef(s) !== undefined, {
  message: 'expected version/plural or group/version/plural, e.g. v1/pods or apps/v1/deployments',
})

const namespaceName = z
  .string()
  .regex(
    namespacePattern,
    'expected a namespace name (a DNS label: at most 63 lower-case letters, digits or "-", starting and ending with a letter or digit)',
  )

/*
 * Lists are bounded (lib/input-limits.ts), and a resource or namespace named
 * twice is merged: each is worked once, by one task holding its lease.
 */
const resourceList = z
  .array(resourceId)
  .min(1)
  .max(MAX_RESOURCES)
  .transform((ids) => unique(ids.map((id) => parseResourceRef(id)!.id)))

const namespaceList = z.array(namespaceName).min(1).max(MAX_NAMESPACES).transform(unique)

const clusterName = z
  .string()
  .regex(clusterNamePattern, 'expected a cluster name of the registry (a DNS label)')

const clusterList = z.array(clusterName).min(1).max(MAX_CLUSTERS).transform(unique)

/** Fleets (docs/fleets.md#manual-runs): which clusters, and whether to plan them or run them here. */
const fleetFields = {
  clusters: clusterList.optional(),
  /** Run in this invocation instead of planning onto the work queue (small fleets, debugging). */
  inline: z.boolean().optional(),
}

export const reconcileInput = z
  .strictObject({
    resources: resourceList.optional(),
    namespaces: namespaceList.optional(),
    dryRun: z.boolean().optional(),
    /** Applies deletes the mass-delete guard would hold (lib/sync/mass-delete-guard.ts): an operator's decision. */
    confirmDeletes: z.boolean().optional(),
    ...fleetFields,
    /** Deletes one cluster's documents and state (docs/fleets.md#forgetting-a-cluster). */
    forget: clusterName.optional(),
  })
  .superRefine((input, ctx) => {
    const others = Object.keys(input).filter((k) => k !== 'forget')
    if (input.forget !== undefined && others.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['forget'],
        message: `stands alone (not with ${others.map((k) => `"${k}"`).join(', ')})`,
      })
  })

export const watchInput = z.strictObject({
  resources: resourceList.optional(),
  windowSeconds: z.number().int().min(1).max(900).optional(),
  ...fleetFields,
})

export class InvalidInputError extends SyncError {
  override readonly name = 'InvalidInputError'
}

/**
 * An EventBridge scheduled event, when the rule sends the whole event rather
 * than the `{}` our serverless.yml configures: it means "run as scheduled".
 */
function isScheduledEvent(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as Record<string, unknown>)['detail-type'] === 'Scheduled Event' &&
    (event as Record<string, unknown>).source === 'aws.events'
  )
}

export function parseInput<S extends z.ZodType>(
  schema: S,
  event: unknown,
  fn: string,
): z.output<S> {
  const body = event === undefined || event === null || isScheduledEvent(event) ? {} : event
  const result = schema.safeParse(body)
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(input)'
    if (issue.code === 'unrecognized_keys')
      return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
    return `field "${field}": ${issue.message}`
  })
  throw new InvalidInputError(`Invalid ${fn} input: ${problems.join('; ')}`)
}
