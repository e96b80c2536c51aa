import https from 'node:https'

import { KubeConfig } from '@kubernetes/client-node'

/*
 * A bare keep-alive HTTPS client for the bench's own writes to the API server
 * (seeding, churn, watch changes): many requests in parallel over a pool of
 * sockets, none of client-node's per-request overhead. Not our sync's path.
 */

export interface KubeResponse {
  readonly status: number
  readonly body: string
}

export interface RequestOptions {
  readonly body?: unknown
  readonly contentType?: string
  readonly accept?: string
}

export interface KubeHttp {
  request(method: string, path: string, options?: RequestOptions): Promise<KubeResponse>
  json<T>(method: string, path: string, options?: RequestOptions): Promise<T>
  close(): void
}

export async function kubeHttp(kubeconfigPath: string, maxSockets = 64): Promise<KubeHttp> {
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfigPath)
  const server = kc.getCurrentCluster()?.server
  if (!server) throw new Error(`${kubeconfigPath}: no current cluster`)
  const options: https.RequestOptions = {}
  await kc.applyToHTTPSOptions(options)
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets,
    ca: options.ca,
    cert: options.cert,
    key: options.key,
  })
  const auth: Record<string, string> = {}
  for (const [key, value] of Object.entries(options.headers ?? {}))
    if (typeof value === 'string') auth[key] = value

  const request = (method: string, path: string, options: RequestOptions = {}) =>
    new Promise<KubeResponse>((resolve, reject) => {
      const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
      const headers: Record<string, string> = {
        ...auth,
        Accept: options.accept ?? 'application/json',
      }
      if (payload !== undefined) {
        headers['Content-Type'] = options.contentType ?? 'application/json'
        headers['Content-Length'] = String(Buffer.byteLength(payload))
      }
      const req = https.request(new URL(server + path), { method, agent, headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        )
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(payload)
    })

  return {
    request,
    async json<T>(method: string, path: string, options?: RequestOptions) {
      const res = await request(method, path, options)
      if (res.status >= 300)
        throw new Error(`${method} ${path}: HTTP ${res.status} ${res.body.slice(0, 300)}`)
      return JSON.parse(res.body) as T
    },
    close: () => agent.destroy(),
  }
}

/** Runs `task` over `items` with at most `concurrency` in flight; rejects on the first failure. */
export async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      await task(items[index]!, index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}
