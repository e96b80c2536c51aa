/**
 * Lambda entry point: GET /health behind API Gateway (IAM-authorised unless
 * the `healthAuth` parameter says otherwise). 200 when MongoDB answers and
 * every configured resource is fresh, 503 with the reasons otherwise. Needs
 * MongoDB only: it fetches no Kubernetes credentials and builds no client.
 */
import { healthResponse } from '../lib/health/http-response.js'
import { healthPorts } from '../lib/health/mongo-ports.js'
import { checkHealth } from '../lib/health/report.js'
import { createLambdaHandler } from '../lib/runtime/lambda-handler.js'

export const handler = createLambdaHandler(
  'health',
  // One route, one method (API Gateway enforces both); a direct invocation's `{}` is the same question.
  () => undefined,
  async (_input, { config, deps }) => healthResponse(await checkHealth(config, deps)),
  { secrets: ['mongodb'], dependencies: healthPorts },
)
