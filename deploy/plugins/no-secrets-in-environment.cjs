'use strict'

/*
 * Refuses to package or deploy a function environment that holds a secret
 * (docs/security.md#credentials-and-deployment). serverless.yml passes every
 * variable through from the deploying shell, so MONGODB_URI or SECRET_HASH_KEY
 * set there would land in plain text in the Lambda configuration and the
 * CloudFormation template, readable by anyone who may read either. Local runs
 * (`serverless invoke local`, `npm run invoke`) are not affected: they package
 * nothing.
 *
 * --param=allowEnvSecrets=true deploys them anyway, with a warning.
 */

/** The variables of lib/config-variables.ts marked `secret: true` (a unit test keeps them equal). */
const SECRET_VARIABLES = ['MONGODB_URI', 'SECRET_HASH_KEY']

/**
 * Variables marked `secret` only so that errors and logs never echo them,
 * which hold no credential and are meant to be deployed. CLUSTERS (the
 * registry) names secrets and roles; what it holds of an externalId is not a
 * credential (AWS: the external ID is not a secret).
 */
const ECHO_ONLY_SECRETS = ['CLUSTERS']

/** The variable each one should be replaced with. */
const REPLACEMENT = {
  MONGODB_URI: 'MONGODB_SECRET_ID',
  SECRET_HASH_KEY: 'SECRET_HASH_KEY_SECRET_ID',
}

/** `NAME (function f)` for every secret variable set in an environment the deployment would carry. */
function secretsInEnvironment(service) {
  const found = []
  const check = (environment, where) => {
    for (const name of SECRET_VARIABLES) {
      const value = environment?.[name]
      if (value !== undefined && value !== null && String(value).trim() !== '')
        found.push({ name, where })
    }
  }
  check(service.provider?.environment, 'provider.environment')
  for (const [fn, definition] of Object.entries(service.functions ?? {}))
    check(definition?.environment, `functions.${fn}.environment`)
  return found
}

function refusal(found) {
  const names = [...new Set(found.map((f) => f.name))]
  const them = names.length > 1 ? 'them' : 'it'
  return [
    `Refused: ${names.join(' and ')} ${names.length > 1 ? 'are' : 'is'} set in the deploying shell, and the deployment would carry ${them} in plain text in the Lambda configuration and the CloudFormation template.`,
    ...names.map(
      (n) =>
        `  ${n}: store the value in Secrets Manager, set ${REPLACEMENT[n]} to its id, unset ${n}.`,
    ),
    `To deploy ${them} in plain text anyway: --param=allowEnvSecrets=true.`,
    'See docs/security.md#credentials-and-deployment.',
  ].join('\n')
}

class NoSecretsInEnvironment {
  constructor(serverless, _options, utils) {
    this.serverless = serverless
    this.log = utils?.log
    const check = () => this.check()
    this.hooks = {
      // `deploy` packages first, so this covers it; `deploy function` updates the configuration too.
      'before:package:initialize': check,
      'before:deploy:function:initialize': check,
    }
  }

  check() {
    const { service } = this.serverless
    const found = secretsInEnvironment(service)
    if (found.length === 0) return
    const allowed = String(service.custom?.allowEnvSecrets ?? 'false').trim() === 'true'
    if (!allowed) throw new this.serverless.classes.Error(refusal(found))
    const names = [...new Set(found.map((f) => f.name))].join(', ')
    const message = `allowEnvSecrets=true: ${names} will be in plain text in the Lambda configuration and the CloudFormation template`
    if (this.log?.warning) this.log.warning(message)
    else console.warn(message)
  }
}

module.exports = NoSecretsInEnvironment
module.exports.SECRET_VARIABLES = SECRET_VARIABLES
module.exports.ECHO_ONLY_SECRETS = ECHO_ONLY_SECRETS
module.exports.secretsInEnvironment = secretsInEnvironment
