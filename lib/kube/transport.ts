import http from 'node:http'
import https from 'node:https'
import { pipeline } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { registerSecret } from '../redact.js'
import type { HttpRequest, HttpResponse, HttpTransport } from './http.js'

/*
 * GET requests to one API server with node:http(s). The list, discovery and
 * watch calls need the raw status, body and headers of every answer (a 410's
 * continue token, a 429's Retry-After) and a watch that reports how it ended,
 * so no client library sends them. Where the credentials come from (a
 * kubeconfig, or EKS's endpoint, CA and token) is the caller's `authorize`.
 */

/** What one request carries: the connection's agent (TLS material, proxy) and its auth. */
export interface RequestAuth {
  readonly agent?: http.Agent
  /** Authorization and any other header the credentials add. */
  readonly headers: Readonly<Record<string, string>>
  /** `user:password` (basic auth). */
  readonly auth?: string
}

/** Asked on every request: auth providers and the EKS token helper refresh tokens. */
export type Authorize = () => Promise<RequestAuth>

export function createTransport(server: string, authorize: Authorize): HttpTransport {
  const base = server.replace(/\/+$/, '')
  const client = base.startsWith('http:') ? http : https
  return async (request: HttpRequest): Promise<HttpResponse> => {
    const credentials = await authorize()
    const headers: Record<string, string> = {
      Accept: request.accept ?? 'application/json',
      ...credentials.headers,
    }
    // A token read from a file or refreshed appears here first: no log line may print it.
    registerSecret(bearerToken(headers.Authorization))
    if (request.compressed) headers['Accept-Encoding'] = 'gzip'
    const url = new URL(base + request.path)
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value)
    }
    return send(client, url, {
      method: 'GET',
      agent: credentials.agent,
      headers,
      auth: credentials.auth,
      signal: request.signal,
    })
  }
}

function bearerToken(authorization: string | undefined): string | undefined {
  return authorization?.replace(/^Bearer\s+/i, '')
}

function send(
  client: typeof http | typeof https,
  url: URL,
  options: https.RequestOptions,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = client.request(url, options, (res) => {
      const headers: Record<string, string> = {}
      for (const [key, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value
      }
      // pipeline forwards a socket error on the response into the gunzip stream.
      const body =
        headers['content-encoding'] === 'gzip' ? pipeline(res, createGunzip(), () => {}) : res
      resolve({ status: res.statusCode ?? 0, headers, body })
    })
    req.on('error', reject)
    req.end()
  })
}
