import type { HealthReport } from './report.js'

/** What API Gateway's Lambda proxy integration turns into the HTTP answer. */
export interface HttpResponse {
  readonly statusCode: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/**
 * 200 when healthy, 503 otherwise: load balancers and uptime checkers read
 * the status code, people read the body.
 */
export function healthResponse(report: HealthReport): HttpResponse {
  return {
    statusCode: report.status === 'healthy' ? 200 : 503,
    headers: {
      'content-type': 'application/json',
      // A cached "healthy" would hide the outage it is meant to show.
      'cache-control': 'no-store',
    },
    body: JSON.stringify(report),
  }
}
