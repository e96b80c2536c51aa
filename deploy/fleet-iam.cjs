'use strict'

/*
 * The cluster-access statements of the sync functions' shared policy
 * (serverless.yml, ClusterAccessPolicy), derived at package time from the
 * registry (docs/fleets.md#registry, docs/scaling.md#iam):
 *
 * - secretsmanager:GetSecretValue on every listed kubeconfigSecretId and on
 *   the registry secret itself (clustersSecretArn);
 * - eks:DescribeCluster on every listed eksClusterName in its region, in
 *   this account (a cluster with a roleArn is described with that role, in
 *   its own account, so it needs sts:AssumeRole on the role instead);
 * - sts:AssumeRole on every listed roleArn;
 * - under EKS discovery (eksDiscoveryTag `key=value`): eks:ListClusters, which
 *   has no resource-level scoping so it is the one `*`, and
 *   eks:DescribeCluster on the clusters of the discovery regions that carry
 *   the tag (aws:ResourceTag condition).
 *
 * A registry kept in Secrets Manager (clustersSecretArn) cannot be read
 * offline at package time: the operator lists what its entries need in
 * fleetSecretArns, fleetEksClusterArns and fleetRoleArns (comma lists).
 *
 * Used as ${file(./deploy/fleet-iam.cjs):statements} and :enabled.
 */

/** A secret id as an IAM resource: an ARN as is, a name as its ARN pattern (Secrets Manager appends `-` and six characters). */
function secretResource(id) {
  if (id.startsWith('arn:')) return id
  return {
    'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${id}-??????`,
  }
}

function eksClusterResource(name, region) {
  return {
    'Fn::Sub': `arn:\${AWS::Partition}:eks:${region || '${AWS::Region}'}:\${AWS::AccountId}:cluster/${name}`,
  }
}

function commaList(value) {
  return String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

/** The `clusters` parameter's JSON: an array of entries, or '' for none. Throws naming the problem. */
function parseClusters(text) {
  const raw = String(text ?? '').trim()
  if (raw === '') return []
  let json
  try {
    json = JSON.parse(raw)
  } catch {
    throw new Error(
      'the clusters parameter is not valid JSON (expected an array of cluster entries)',
    )
  }
  if (!Array.isArray(json))
    throw new Error('the clusters parameter must be a JSON array of cluster entries')
  json.forEach((entry, index) => {
    if (entry === null || typeof entry !== 'object' || typeof entry.name !== 'string')
      throw new Error(`the clusters parameter: entry ${index} has no "name"`)
  })
  return json
}

/** `key=value` of eksDiscoveryTag, or undefined when empty. */
function parseTag(text) {
  const raw = String(text ?? '').trim()
  if (raw === '') return undefined
  const at = raw.indexOf('=')
  if (at <= 0 || at === raw.length - 1)
    throw new Error(`the eksDiscoveryTag parameter "${raw}" is not key=value`)
  return { key: raw.slice(0, at), value: raw.slice(at + 1) }
}

const unique = (items) => {
  const seen = new Set()
  return items.filter((item) => {
    const key = JSON.stringify(item)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function discoveryStatements(tag, regions) {
  if (tag === undefined) return []
  const where = regions.length > 0 ? regions : ['${AWS::Region}']
  return [
    // ListClusters has no resource-level permission: `*` is the only valid Resource.
    {
      Sid: 'ListEksClustersForDiscovery',
      Effect: 'Allow',
      Action: 'eks:ListClusters',
      Resource: '*',
    },
    {
      Sid: 'DescribeTaggedEksClusters',
      Effect: 'Allow',
      Action: 'eks:DescribeCluster',
      Resource: where.map((region) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:eks:${region}:\${AWS::AccountId}:cluster/*`,
      })),
      Condition: { StringEquals: { [`aws:ResourceTag/${tag.key}`]: tag.value } },
    },
  ]
}

/**
 * The statements for these deployment parameters (all strings, as
 * serverless resolves them). Pure: no AWS call.
 */
function statementsOf(params) {
  const clusters = parseClusters(params.clusters)
  const secrets = [
    ...clusters
      .filter((c) => c.kubeconfigSecretId)
      .map((c) => secretResource(c.kubeconfigSecretId)),
    ...commaList(params.clustersSecretArn).map(secretResource),
    ...commaList(params.fleetSecretArns).map(secretResource),
  ]
  const ownEks = [
    ...clusters
      .filter((c) => c.eksClusterName && !c.roleArn)
      .map((c) => eksClusterResource(c.eksClusterName, c.region)),
    ...commaList(params.fleetEksClusterArns),
  ]
  const roles = [
    ...clusters.filter((c) => c.roleArn).map((c) => c.roleArn),
    ...commaList(params.fleetRoleArns),
  ]
  const statement = (Sid, Action, resources) =>
    resources.length > 0 ? [{ Sid, Effect: 'Allow', Action, Resource: unique(resources) }] : []
  return [
    ...statement('ReadClusterSecrets', 'secretsmanager:GetSecretValue', secrets),
    ...statement('DescribeListedEksClusters', 'eks:DescribeCluster', ownEks),
    ...statement('AssumeClusterRoles', 'sts:AssumeRole', roles),
    ...discoveryStatements(parseTag(params.eksDiscoveryTag), commaList(params.eksDiscoveryRegions)),
  ]
}

const PARAMS = [
  'clusters',
  'clustersSecretArn',
  'eksDiscoveryTag',
  'eksDiscoveryRegions',
  'fleetSecretArns',
  'fleetEksClusterArns',
  'fleetRoleArns',
]

module.exports = async ({ resolveVariable }) => {
  const params = {}
  for (const name of PARAMS) params[name] = await resolveVariable(`param:${name}`)
  const statements = statementsOf(params)
  // A policy needs at least one statement: an unused one stands in, and the
  // policy goes with the condition (HasFleetAccess) anyway.
  return {
    enabled: String(statements.length > 0),
    statements:
      statements.length > 0
        ? statements
        : [
            {
              Effect: 'Deny',
              Action: 'sts:AssumeRole',
              Resource: 'arn:aws:iam::000000000000:role/none',
            },
          ],
  }
}
module.exports.statementsOf = statementsOf
