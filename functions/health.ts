/**
 * Lambda entry point: GET /health behind API Gateway (IAM-authorised unless
 * the `healthAuth` parameter says otherwise). 200 when MongoDB answers and
 * every resource of every managed cluster (the sync_fleet registry's, or
 * CLUSTER_NAME's without one) is fresh, 503 with the reasons otherwise. Needs
 * MongoDB only: it fetches no Kubernetes credentials and builds no client.
 */
import { healthResponse } from '../lib/health/http-response.js'
import { healthPorts, quickMongoConfig } from '../lib/health/mongo-ports.js'
import { checkHealth } from '../lib/health/report.js'
import { createLambdaHandler } from '../lib/runtime/lambda-handler.js'

export const handler = createLambdaHandler({
  name: 'health',
  // One route, one method (API Gateway enforces both); a direct invocation's `{}` is the same question.
  parse: () => undefined,
  secrets: ['mongodb'],
  mongoSettings: quickMongoConfig,
  dependencies: healthPorts,
  work: async (_input, ports) => healthResponse(await checkHealth(ports.config, ports)),
})
