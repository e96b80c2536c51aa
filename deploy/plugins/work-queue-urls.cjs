'use strict'

/*
 * Points RECONCILE_QUEUE_URL and WATCH_QUEUE_URL of every packaged sync
 * function at the deployment's own work queues ({ Ref } of the queue is its
 * URL). serverless.yml keeps `${env:..., ''}` for them in
 * provider.environment, so that `serverless invoke local` (which reads that
 * environment, not the template, and would otherwise try to resolve a Ref
 * against a deployed stack) can use the local stack's queues. The template
 * always gets the Ref: a queue URL left in the deploying shell (say, the local
 * stack's) never reaches a deployment.
 */

/** Environment variable -> logical id of the queue it names. */
const QUEUE_VARIABLES = {
  RECONCILE_QUEUE_URL: 'ReconcileWorkQueue',
  WATCH_QUEUE_URL: 'WatchWorkQueue',
}

/** Sets the variables on every Lambda function of the template that carries them; returns the functions changed. */
function pointAtWorkQueues(template) {
  const changed = []
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function') continue
    const variables = resource.Properties?.Environment?.Variables
    if (!variables) continue
    let touched = false
    for (const [name, queue] of Object.entries(QUEUE_VARIABLES)) {
      if (!(name in variables) || !(queue in template.Resources)) continue
      variables[name] = { Ref: queue }
      touched = true
    }
    if (touched) changed.push(logicalId)
  }
  return changed
}

class WorkQueueUrls {
  constructor(serverless) {
    this.serverless = serverless
    this.hooks = {
      // After resources.Resources (the queues) are merged into the template, before it is saved.
      'after:aws:package:finalize:mergeCustomProviderResources': () =>
        pointAtWorkQueues(this.serverless.service.provider.compiledCloudFormationTemplate),
    }
  }
}

module.exports = WorkQueueUrls
module.exports.QUEUE_VARIABLES = QUEUE_VARIABLES
module.exports.pointAtWorkQueues = pointAtWorkQueues
