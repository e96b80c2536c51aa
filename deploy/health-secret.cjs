'use strict'

/*
 * The secrets the health function's role may read (serverless.yml,
 * HealthFunctionRole): the MongoDB secret alone. Its ARN is the
 * healthSecretArns parameter when given; otherwise MONGODB_SECRET_ID of the
 * deploying shell, as is when it is an ARN, or as
 * `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-??????`
 * when it is a name (Secrets Manager appends six random characters to every
 * secret's ARN). Neither: the role reads no secret.
 *
 * Used as ${file(./deploy/health-secret.cjs):resources} and :enabled.
 */

function resourcesOf(explicit, mongodbSecretId) {
  const listed = String(explicit ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (listed.length > 0) return listed
  const id = String(mongodbSecretId ?? '').trim()
  if (id === '') return []
  if (id.startsWith('arn:')) return [id]
  return [
    {
      'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${id}-??????`,
    },
  ]
}

module.exports = async ({ resolveVariable }) => {
  const explicit = await resolveVariable('param:healthSecretArns')
  const mongodbSecretId = await resolveVariable("env:MONGODB_SECRET_ID, ''")
  const resources = resourcesOf(explicit, mongodbSecretId)
  // An empty list is not a valid IAM Resource: the statement goes with the condition.
  return {
    enabled: String(resources.length > 0),
    resources: resources.length > 0 ? resources : ['none'],
  }
}
module.exports.resourcesOf = resourcesOf
