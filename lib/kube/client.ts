import { KubeConfig, loadYaml, type Cluster, type User } from '@kubernetes/client-node'
import http from 'node:http'
import https from 'node:https'
import { pipeline } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { SyncError } from '../errors.js'
import { enforceSecureTransport } from '../insecure-transport.js'
import { registerSecret } from '../redact.js'
import type { Guard } from '../resilience/circuit-breaker.js'
import { makeDiscover } from './discovery.js'
import { fileReferences, insecureKubeTransport, programUsers } from './kubeconfig-checks.js'
import type { HttpRequest, HttpResponse, HttpTransport } from './http.js'
import { makeListPage } from './list-page.js'
import type { DiscoverFn, ListPageFn, WatchStreamFn } from './operations.js'
import { makeWatchStream } from './watch-stream.js'

/*
 * The one file that imports @kubernetes/client-node. We use its kubeconfig
 * parsing and its auth (tokens, client certificates, CA, proxies, auth
 * providers) through KubeConfig.applyToHTTPSOptions, and send requests with
 * node:http(s) ourselves: the list, discovery and watch calls above need the
 * raw status, body and headers of every answer (a 410's continue token, a
 * 429's Retry-After) and a watch that reports how it ended.
 */

/** Where the cluster credentials come from (docs/design.md#configuration-contract). */
export type KubeconfigSource =
  /** Kubeconfig YAML or JSON fetched from Secrets Manager. */
  | { readonly kind: 'text'; readonly text: string; readonly secretId: string }
  /** KUBECONFIG: a file path (local runs). */
  | { readonly kind: 'file'; readonly path: string }
  /** EKS: the endpoint, its CA (base64 PEM) and an IAM bearer token, asked for on every request. */
  | {
      readonly kind: 'eks'
      readonly server: string
      readonly caData: string
      readonly getToken: () => Promise<string>
    }

export interface KubeClient {
  /** The API server URL (no credentials). */
  readonly server: string
  readonly listPage: ListPageFn
  readonly discover: DiscoverFn
  readonly watchStream: WatchStreamFn
}

/** Both come from the configuration (lib/config.ts); the caller passes them. */
export interface KubeClientOptions {
  /** K8S_REQUEST_TIMEOUT_MS: a whole list/discovery request; a watch's wait for its headers. */
  readonly requestTimeoutMs: number
  /** The API server's circuit breaker (the container's): every request goes through it. */
  readonly guard: Guard
  /**
   * ALLOW_INSECURE_TLS: accept an http:// server or insecure-skip-tls-verify
   * (with a `transport.insecure` warning). Default false: refused.
   */
  readonly allowInsecureTls?: boolean
}

export function createKubeClient(source: KubeconfigSource, options: KubeClientOptions): KubeClient {
  const kc = loadKubeConfig(source)
  const cluster = currentCluster(kc)
  enforceSecureTransport(
    'kubernetes',
    `${describeSource(source)}: API server ${cluster.server}`,
    insecureKubeTransport(cluster),
    options.allowInsecureTls === true,
  )
  const transport = createTransport(kc, source.kind === 'eks' ? source.getToken : undefined)
  const timeoutMs = options.requestTimeoutMs
  // Every request goes through the API server's breaker (a watch: until it is connected).
  const { guard } = options
  const listPage = makeListPage(transport, { timeoutMs })
  const discover = makeDiscover(transport, { timeoutMs })
  const watchStream = makeWatchStream(transport, { connectTimeoutMs: timeoutMs })
  return Object.freeze({
    server: cluster.server,
    listPage: (request) => guard(() => listPage(request)),
    discover: (ref, opts) => guard(() => discover(ref, opts)),
    watchStream: (request) => guard(() => watchStream(request)),
  } satisfies KubeClient)
}

/**
 * A validated KubeConfig. Problems become a SyncError naming the secret id or
 * the file and what is wrong, never quoting the contents; every credential
 * found is registered with the redactor.
 */
export function loadKubeConfig(source: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig()
  if (source.kind === 'eks') {
    const cluster: Cluster = {
      name: 'eks',
      server: source.server,
      caData: source.caData,
      skipTLSVerify: false,
    }
    kc.loadFromClusterAndUser(cluster, { name: 'eks-iam' })
    return kc
  }
  const where = describeSource(source)
  const context = source.kind === 'text' ? { secretId: source.secretId } : {}
  try {
    if (source.kind === 'text') {
      // Checked before loading: loading reads a token-file at once.
      const files = fileReferences(loadYaml(source.text))
      if (files.length > 0) {
        throw new SyncError(
          `${where} is refused: ${files.join('; ')}. A kubeconfig from Secrets Manager must carry its token and certificates inline (token, client-certificate-data, client-key-data, certificate-authority-data) (docs/security.md#what-the-functions-can-read)`,
          { context },
        )
      }
      kc.loadFromString(source.text)
    } else kc.loadFromFile(source.path)
  } catch (error) {
    if (error instanceof SyncError) throw error
    throw new SyncError(`${where} is not a valid kubeconfig: ${describeLoadError(error)}`, {
      context,
    })
  }
  for (const user of kc.getUsers() ?? []) registerUserSecrets(user)
  // A kubeconfig file is the local user's own; a secret may have been written by someone else.
  const programs = source.kind === 'text' ? programUsers(kc) : []
  if (programs.length > 0) {
    throw new SyncError(
      `${where} is refused: ${programs.join('; ')}. A kubeconfig from Secrets Manager must not run programs inside the function: store one with a token or a client certificate, or use EKS_CLUSTER_NAME (docs/security.md#what-the-functions-can-read)`,
      { context },
    )
  }
  const problem = problemOf(kc)
  if (problem) throw new SyncError(`${where} is not usable: ${problem}`, { context })
  return kc
}

function describeSource(source: KubeconfigSource): string {
  if (source.kind === 'text') return `kubeconfig secret ${source.secretId}`
  if (source.kind === 'file') return `kubeconfig file ${source.path}`
  return 'EKS cluster'
}

/** js-yaml errors quote the offending text: keep only its reason and position. */
function describeLoadError(error: unknown): string {
  const e = error as {
    name?: unknown
    reason?: unknown
    mark?: { line?: unknown; column?: unknown }
    code?: unknown
  }
  if (e?.name === 'YAMLException') {
    const at = typeof e.mark?.line === 'number' ? ` at line ${e.mark.line + 1}` : ''
    return `not YAML or JSON (${typeof e.reason === 'string' ? e.reason : 'syntax error'}${at})`
  }
  if (typeof e?.code === 'string') return `cannot be read (${e.code})`
  // client-node's own checks name the field, e.g. "clusters[0].cluster.server is missing".
  return error instanceof Error && /^(clusters|users|contexts)\[\d+\]/.test(error.message)
    ? error.message
    : 'unreadable structure'
}

function problemOf(kc: KubeConfig): string | undefined {
  const name = kc.getCurrentContext()
  if (!name) return 'no current-context'
  const context = kc.getContextObject(name)
  if (!context) return `current-context "${name}" is not among its contexts`
  if (!kc.getCluster(context.cluster))
    return `context "${name}" names cluster "${context.cluster}", which is missing`
  if (!kc.getUser(context.user))
    return `context "${name}" names user "${context.user}", which is missing`
  return undefined
}

function registerUserSecrets(user: User): void {
  registerSecret(user.token)
  registerSecret(user.password)
  registerSecret(user.keyData)
  const config =
    (user.authProvider as { config?: Record<string, unknown> } | undefined)?.config ?? {}
  for (const key of ['access-token', 'id-token', 'refresh-token', 'client-secret']) {
    const value = config[key]
    if (typeof value === 'string') registerSecret(value)
  }
}

function currentCluster(kc: KubeConfig): Cluster {
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new SyncError('kubeconfig has no current cluster')
  return cluster
}

/**
 * GET requests with the kubeconfig's credentials. The agent (TLS material,
 * proxy) is built once; headers are asked for on every request, because auth
 * providers and the EKS token helper refresh tokens.
 */
function createTransport(kc: KubeConfig, getToken?: () => Promise<string>): HttpTransport {
  const server = currentCluster(kc).server.replace(/\/+$/, '')
  const client = server.startsWith('http:') ? http : https
  let agent: http.Agent | undefined

  return async (request: HttpRequest): Promise<HttpResponse> => {
    const options: https.RequestOptions = {}
    await kc.applyToHTTPSOptions(options)
    agent ??= options.agent as http.Agent | undefined
    const headers: Record<string, string> = { Accept: request.accept ?? 'application/json' }
    for (const [key, value] of Object.entries(options.headers ?? {})) {
      if (value !== undefined) headers[key] = String(value)
    }
    // Tokens an auth provider read from a file (or refreshed) appear here first.
    registerSecret(bearerToken(headers.Authorization))
    if (getToken) {
      const token = await getToken()
      registerSecret(token)
      headers.Authorization = `Bearer ${token}`
    }
    if (request.compressed) headers['Accept-Encoding'] = 'gzip'
    const url = new URL(server + request.path)
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value)
    }
    return send(client, url, {
      method: 'GET',
      agent,
      headers,
      auth: options.auth,
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
