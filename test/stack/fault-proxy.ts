import { mkdtempSync, rmSync } from 'node:fs'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { Agent, request } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { KubeConfig } from '@kubernetes/client-node'

import {
  expiredContinueMessage,
  inconsistentContinueFor,
  sendStatus,
  takeFault,
  type FaultAction,
  type FaultRule,
  type FaultRuleSpec,
  type RequestInfo,
} from './fault-rules.js'
import { writeKubeconfig } from './kubeconfig.js'
import { sleep } from './wait.js'

export * from './fault-rules.js'

export interface LoggedRequest {
  method: string
  url: string
  status?: number
  fault?: FaultAction['kind']
}

export interface FaultProxyOptions {
  /** Upstream kubeconfig path; default $KUBECONFIG (the stack's admin). */
  kubeconfig?: string
  /** Token the returned kubeconfig presents; default the upstream kubeconfig's token. */
  token?: string
}

export interface FaultProxy {
  url: string
  /** Plain-HTTP kubeconfig pointing at the proxy, for code that wants a file. */
  kubeconfigPath: string
  kubeConfig(): KubeConfig
  addRule(spec: FaultRuleSpec): FaultRule
  clearRules(): void
  requests: LoggedRequest[]
  close(): Promise<void>
}

const hopByHop = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']

function forwardHeaders(headers: IncomingHttpHeaders, host: string, plain: boolean) {
  const out: IncomingHttpHeaders = { ...headers, host }
  for (const name of hopByHop.slice(0, -1)) delete out[name]
  // Watch events are counted on the wire, and rewritten bodies read: both must arrive uncompressed.
  if (plain) out['accept-encoding'] = 'identity'
  return out
}

function responseHeaders(headers: IncomingHttpHeaders) {
  const out = { ...headers }
  for (const name of hopByHop) delete out[name]
  return out
}

function requestInfo(req: IncomingMessage): RequestInfo {
  const url = new URL(req.url ?? '/', 'http://proxy')
  const watch = ['1', 'true'].includes(url.searchParams.get('watch') ?? '')
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    watch,
    continueToken: url.searchParams.get('continue') ?? undefined,
  }
}

// Passes the answer through `rewrite`: each newline-terminated event of a watch as it
// arrives, or the whole body of anything else.
function rewriteBody(
  upstream: IncomingMessage,
  res: ServerResponse,
  watch: boolean,
  rewrite: (text: string) => string,
) {
  let pending = ''
  upstream.setEncoding('utf8')
  upstream.on('data', (chunk: string) => {
    pending += chunk
    if (!watch) return
    for (let i = pending.indexOf('\n'); i !== -1; i = pending.indexOf('\n')) {
      res.write(`${rewrite(pending.slice(0, i))}\n`)
      pending = pending.slice(i + 1)
    }
  })
  upstream.on('end', () => res.end(watch ? pending : rewrite(pending)))
}

// Passes through the bytes up to the end of the n-th newline-terminated watch event, then kills
// the client's connection mid-stream as a dying load balancer would.
function cutAfterEvents(upstream: IncomingMessage, res: ServerResponse, events: number) {
  let seen = 0
  // Once cut, nothing more may reach the client: a late chunk would arrive as a
  // garbled line instead of the clean socket error a real cut gives.
  let cutting = false
  const cut = () => {
    upstream.destroy()
    res.socket?.destroy()
  }
  if (events === 0) return cut()
  upstream.on('data', (chunk: Buffer) => {
    if (cutting) return
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
      if (++seen === events) {
        cutting = true
        upstream.pause()
        res.write(chunk.subarray(0, i + 1), cut)
        return
      }
    }
    res.write(chunk)
  })
  upstream.on('end', () => {
    if (!cutting) res.end()
  })
}

/** Starts an HTTP reverse proxy in front of the API server, on an ephemeral 127.0.0.1 port. */
export async function startFaultProxy(opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstreamConfig = new KubeConfig()
  const path = opts.kubeconfig ?? process.env.KUBECONFIG
  if (!path) throw new Error('fault proxy: no upstream kubeconfig (KUBECONFIG unset)')
  upstreamConfig.loadFromFile(path)
  const cluster = upstreamConfig.getCurrentCluster()
  if (!cluster) throw new Error(`fault proxy: ${path} has no current cluster`)
  const upstream = new URL(cluster.server)
  const ca = cluster.caData ? Buffer.from(cluster.caData, 'base64') : undefined
  const agent = new Agent({ ca, keepAlive: true })
  const rules: FaultRule[] = []
  const requests: LoggedRequest[] = []
  const sockets = new Set<Socket>()

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    entry: LoggedRequest,
    cutAt?: number,
    rewrite?: (text: string) => string,
  ) => {
    const upstreamReq = request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: forwardHeaders(req.headers, upstream.host, info.watch || rewrite !== undefined),
      agent,
    })
    upstreamReq.on('response', (upRes) => {
      entry.status = upRes.statusCode
      const headers = responseHeaders(upRes.headers)
      if (rewrite) delete headers['content-length']
      res.writeHead(upRes.statusCode ?? 502, headers)
      res.flushHeaders()
      if (cutAt !== undefined) cutAfterEvents(upRes, res, cutAt)
      else if (rewrite) rewriteBody(upRes, res, info.watch, rewrite)
      else upRes.pipe(res)
    })
    upstreamReq.on('error', (error) => {
      if (res.headersSent) res.destroy()
      else sendStatus(res, 502, `fault proxy: upstream error: ${error.message}`)
    })
    // A client that hangs up (the end of a watch window) must not leave an upstream watch open.
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy()
    })
    req.pipe(upstreamReq)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const info = requestInfo(req)
    const entry: LoggedRequest = { method: info.method, url: req.url ?? '/' }
    requests.push(entry)
    const rule = rules.find((r) => takeFault(r, info))
    const action = rule?.action
    entry.fault = action?.kind
    switch (action?.kind) {
      case 'status':
        entry.status = action.status
        return sendStatus(
          res,
          action.status,
          action.message ?? `fault proxy: injected ${action.status}`,
          {
            retryAfterSeconds: action.retryAfterSeconds,
          },
        )
      case 'expired': {
        entry.status = 410
        const token =
          action.inconsistentContinue === false
            ? undefined
            : (action.inconsistentContinue ?? inconsistentContinueFor(info.continueToken))
        return sendStatus(res, 410, expiredContinueMessage, { continueToken: token })
      }
      case 'stallWatch':
        entry.status = 200
        res.writeHead(200, {
          'content-type': 'application/json',
          'cache-control': 'no-cache, private',
        })
        res.flushHeaders()
        return
      case 'reset':
        return req.socket.destroy()
      case 'delay':
        await sleep(action.ms)
        return forward(req, res, info, entry)
      case 'cutWatch':
        return forward(req, res, info, entry, action.afterEvents)
      case 'rewrite':
        return forward(req, res, info, entry, undefined, action.rewrite)
      default:
        return forward(req, res, info, entry)
    }
  }

  const server = createServer((req, res) => void handle(req, res))
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const token = opts.token ?? upstreamConfig.getCurrentUser()?.token
  if (!token) throw new Error(`fault proxy: ${path} has no token user`)
  const dir = mkdtempSync(join(tmpdir(), 'kms-fault-proxy-'))
  const kubeconfigPath = writeKubeconfig(join(dir, 'kubeconfig'), {
    server: url,
    token,
    insecureSkipTlsVerify: true,
  })

  return {
    url,
    kubeconfigPath,
    kubeConfig: () => {
      const kc = new KubeConfig()
      kc.loadFromFile(kubeconfigPath)
      return kc
    },
    addRule: (spec) => {
      const rule: FaultRule = { ...spec, matched: 0, applied: 0 }
      rules.push(rule)
      return rule
    },
    clearRules: () => void rules.splice(0),
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      agent.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
