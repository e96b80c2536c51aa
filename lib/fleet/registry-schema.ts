import * as z from 'zod'
import { MAX_NAMESPACES, MAX_RESOURCES, namespacePattern, unique } from '../input-limits.js'
import { parseResourceRef, type ResourceRef } from '../resource-ref.js'

/*
 * The cluster registry's format (docs/fleets.md#registry): the JSON of
 * CLUSTERS or of the CLUSTERS_SECRET_ID secret. Every bad entry is named in
 * one error, by its position and name, so one fix-and-redeploy cures them all.
 */

/** Most clusters one registry may list: a plan sends one message per (cluster, resource). */
export const MAX_CLUSTERS = 1_000

/** A cluster name is a DNS label: it prefixes every `_id` of that cluster and names its metrics. */
export const clusterNamePattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

const dnsLabel = z
  .string()
  .regex(clusterNamePattern, 'expected a DNS label (at most 63 lower-case letters, digits or "-")')

/** A list of resource ids, checked and merged; exported for tasks, which carry them. */
export const resourceIds = z
  .array(
    z.string().refine((s) => parseResourceRef(s) !== undefined, {
      message: 'expected version/plural or group/version/plural, e.g. v1/pods',
    }),
  )
  .min(1)
  .max(MAX_RESOURCES)
  .transform((ids) =>
    unique(ids.map((id) => parseResourceRef(id)!.id)).map((id) => parseResourceRef(id)!),
  )

const namespaces = z
  .array(z.string().regex(namespacePattern, 'expected a namespace name (a DNS label)'))
  .min(1)
  .max(MAX_NAMESPACES)
  .transform(unique)

const eksName = z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'expected an EKS cluster name')
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region, e.g. eu-west-1')
const roleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'expected an IAM role ARN')
const externalId = z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, 'expected 2-1224 characters')
const secretId = z.string().min(1).max(2048)

const entry = z
  .strictObject({
    name: dnsLabel,
    eksClusterName: eksName.optional(),
    region: region.optional(),
    roleArn: roleArn.optional(),
    externalId: externalId.optional(),
    kubeconfigSecretId: secretId.optional(),
    context: z.string().min(1).optional(),
    kubeconfigPath: z.string().min(1).optional(),
    resources: resourceIds.optional(),
    namespaces: namespaces.optional(),
  })
  .superRefine((e, ctx) => {
    const sources = [e.eksClusterName, e.kubeconfigSecretId, e.kubeconfigPath].filter(
      (s) => s !== undefined,
    )
    if (sources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          'needs exactly one of "eksClusterName", "kubeconfigSecretId" or "kubeconfigPath" (local runs)',
      })
    }
    const eksOnly = { region: e.region, roleArn: e.roleArn, externalId: e.externalId }
    for (const [field, value] of Object.entries(eksOnly)) {
      if (value !== undefined && e.eksClusterName === undefined)
        ctx.addIssue({ code: 'custom', message: `"${field}" applies to "eksClusterName" only` })
    }
    if (e.externalId !== undefined && e.roleArn === undefined)
      ctx.addIssue({ code: 'custom', message: '"externalId" needs "roleArn"' })
    if (
      e.context !== undefined &&
      e.kubeconfigSecretId === undefined &&
      e.kubeconfigPath === undefined
    )
      ctx.addIssue({ code: 'custom', message: '"context" applies to a kubeconfig only' })
  })

/** One cluster of the fleet: where its credentials come from, and what of it is synced. */
export interface ClusterEntry {
  readonly name: string
  readonly eksClusterName?: string
  readonly region?: string
  readonly roleArn?: string
  readonly externalId?: string
  readonly kubeconfigSecretId?: string
  readonly context?: string
  readonly kubeconfigPath?: string
  /** Overrides SYNC_RESOURCES for this cluster. */
  readonly resources?: readonly ResourceRef[]
  /** Limits this cluster's lists and watches to these namespaces. */
  readonly namespaces?: readonly string[]
}

/** The registry is not valid JSON or has bad entries; the message names every one. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError'
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}

function entryLabel(raw: unknown, index: number): string {
  const name = (raw as { name?: unknown } | null)?.name
  return typeof name === 'string' && name !== '' ? `entry ${index} ("${name}")` : `entry ${index}`
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? `"${issue.path.join('.')}": ` : ''
  if (issue.code === 'unrecognized_keys')
    return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
  return `${field}${issue.message}`
}

/**
 * Parses a registry's JSON text. `source` names where it came from
 * (`CLUSTERS`, `CLUSTERS_SECRET_ID <id>`) in the error. Never echoes values
 * beyond names: a registry secret may hold more than it should.
 */
export function parseRegistry(text: string, source: string): ClusterEntry[] {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new RegistryError(source, ['not valid JSON (expected an array of cluster entries)'])
  }
  return parseRegistryEntries(json, source)
}

export function parseRegistryEntries(json: unknown, source: string): ClusterEntry[] {
  if (!Array.isArray(json))
    throw new RegistryError(source, ['expected a JSON array of cluster entries'])
  if (json.length === 0) throw new RegistryError(source, ['lists no cluster'])
  if (json.length > MAX_CLUSTERS)
    throw new RegistryError(source, [`lists ${json.length} clusters, at most ${MAX_CLUSTERS}`])
  const problems: string[] = []
  const clusters: ClusterEntry[] = []
  const seen = new Map<string, number>()
  json.forEach((raw, index) => {
    const result = entry.safeParse(raw)
    if (!result.success) {
      problems.push(
        `${entryLabel(raw, index)}: ${result.error.issues.map(describeIssue).join('; ')}`,
      )
      return
    }
    const first = seen.get(result.data.name)
    if (first !== undefined) {
      problems.push(`${entryLabel(raw, index)}: the name is already used by entry ${first}`)
      return
    }
    seen.set(result.data.name, index)
    clusters.push(result.data)
  })
  if (problems.length > 0) throw new RegistryError(source, problems)
  return clusters
}
