import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'

/*
 * A kubeconfig's clusters, users and contexts, read the way
 * @kubernetes/client-node reads them (same fields, same defaults, same
 * "clusters[0].cluster.server is missing" errors) without loading that
 * library: it was most of a worker's bundle (docs/scaling.md#cold-start).
 * Only parsing here; what a request carries is kubeconfig-auth.ts.
 */

export interface Cluster {
  readonly name: string
  readonly server: string
  readonly caData?: string
  caFile?: string
  readonly skipTLSVerify: boolean
  readonly tlsServerName?: string
  readonly proxyUrl?: string
}

/** An exec credential plugin (client.authentication.k8s.io ExecConfig). */
export interface ExecConfig {
  readonly command?: string
  readonly args?: readonly string[]
  readonly env?: ReadonlyArray<{ readonly name: string; readonly value: string }>
  readonly [key: string]: unknown
}

export interface User {
  readonly name: string
  readonly token?: string
  readonly username?: string
  readonly password?: string
  readonly certData?: string
  certFile?: string
  readonly keyData?: string
  keyFile?: string
  readonly exec?: ExecConfig
  readonly authProvider?: { readonly name?: string; readonly config?: Record<string, unknown> }
  readonly impersonateUser?: string
}

export interface Context {
  readonly name: string
  readonly cluster: string
  readonly user?: string
  readonly namespace?: string
}

type Raw = Record<string, unknown>

const asRaw = (value: unknown): Raw | undefined =>
  value !== null && typeof value === 'object' ? (value as Raw) : undefined
/** A field as the YAML gave it; client-node passes these through unchecked. */
const field = <T>(body: Raw | undefined, key: string): T | undefined =>
  (body?.[key] ?? undefined) as T | undefined

/**
 * Parsed YAML (or JSON, which is YAML). js-yaml's errors (YAMLException) and
 * the missing-field errors propagate; kubeconfig.ts words them.
 */
export function parseKubeconfigText(text: string): unknown {
  return yaml.load(text)
}

export class KubeConfig {
  private clusters: Cluster[] = []
  private users: User[] = []
  private contexts: Context[] = []
  private currentContext: string | undefined

  /** client-node's loadFromString: reads files named by token-file at once. */
  loadFromString(text: string): void {
    this.loadFromObject(parseKubeconfigText(text))
  }

  loadFromObject(parsed: unknown): void {
    // client-node fails on an empty document (kubeconfig.ts: "unreadable structure").
    if (parsed === null || parsed === undefined) throw new Error('Failed to load YAML')
    const doc = asRaw(parsed) ?? {}
    this.clusters = list(doc.clusters).map(clusterOf)
    this.contexts = list(doc.contexts).map(contextOf)
    this.users = list(doc.users).map(userOf)
    this.currentContext = field<string>(doc, 'current-context')
  }

  loadFromClusterAndUser(cluster: Cluster, user: User): void {
    this.clusters = [cluster]
    this.users = [user]
    this.currentContext = 'loaded-context'
    this.contexts = [{ name: this.currentContext, cluster: cluster.name, user: user.name }]
  }

  getContexts(): readonly Context[] {
    return this.contexts
  }
  getUsers(): readonly User[] {
    return this.users
  }
  getClusters(): readonly Cluster[] {
    return this.clusters
  }
  getCurrentContext(): string | undefined {
    return this.currentContext
  }
  setCurrentContext(name: string): void {
    this.currentContext = name
  }
  getContextObject(name: string | undefined): Context | undefined {
    return this.contexts.find((c) => c.name === name)
  }
  getCluster(name: string | undefined): Cluster | undefined {
    return this.clusters.find((c) => c.name === name)
  }
  getUser(name: string | undefined): User | undefined {
    return this.users.find((u) => u.name === name)
  }
  getCurrentCluster(): Cluster | undefined {
    const context = this.getContextObject(this.currentContext)
    return context && this.getCluster(context.cluster)
  }
  getCurrentUser(): User | undefined {
    const context = this.getContextObject(this.currentContext)
    return context && this.getUser(context.user)
  }
}

function list(value: unknown): Raw[] {
  return Array.isArray(value) ? value.map((entry) => asRaw(entry) ?? {}) : []
}

function clusterOf(entry: Raw, i: number): Cluster {
  const body = asRaw(entry.cluster)
  if (!entry.name) throw new Error(`clusters[${i}].name is missing`)
  if (!body) throw new Error(`clusters[${i}].cluster is missing`)
  const server = field<unknown>(body, 'server')
  if (!server) throw new Error(`clusters[${i}].cluster.server is missing`)
  // client-node failed on it too ("unreadable structure", kubeconfig.ts).
  if (typeof server !== 'string') throw new TypeError('server is not a string')
  return {
    name: entry.name as string,
    server: server.replace(/\/$/, ''),
    caData: field(body, 'certificate-authority-data'),
    caFile: field(body, 'certificate-authority'),
    skipTLSVerify: body['insecure-skip-tls-verify'] === true,
    tlsServerName: field(body, 'tls-server-name'),
    proxyUrl: field(body, 'proxy-url'),
  }
}

function userOf(entry: Raw, i: number): User {
  if (!entry.name) throw new Error(`users[${i}].name is missing`)
  const body = asRaw(entry.user)
  return {
    name: entry.name as string,
    token: tokenOf(body),
    username: field(body, 'username'),
    password: field(body, 'password'),
    certData: field(body, 'client-certificate-data'),
    certFile: field(body, 'client-certificate'),
    keyData: field(body, 'client-key-data'),
    keyFile: field(body, 'client-key'),
    exec: field(body, 'exec'),
    authProvider: field(body, 'auth-provider'),
    impersonateUser: field(body, 'as'),
  }
}

/** Read at load, as client-node does; a secret's kubeconfig never gets here with one (kubeconfig-checks.ts). */
function tokenOf(body: Raw | undefined): string | undefined {
  const token = field<string>(body, 'token')
  if (token) return token
  const file = field<string>(body, 'token-file')
  return file ? readFileSync(file).toString() : undefined
}

function contextOf(entry: Raw, i: number): Context {
  const body = asRaw(entry.context)
  if (!entry.name) throw new Error(`contexts[${i}].name is missing`)
  if (!body) throw new Error(`contexts[${i}].context is missing`)
  if (!body.cluster) throw new Error(`contexts[${i}].context.cluster is missing`)
  return {
    name: entry.name as string,
    cluster: body.cluster as string,
    user: field<string>(body, 'user') || undefined,
    namespace: field<string>(body, 'namespace') || undefined,
  }
}
