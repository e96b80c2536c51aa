// The modules themselves, not the package index: the index would bring the whole API client
// (watch, exec, port-forward, cp, metrics) into the bundle; these are all that is used.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js'
import type { Cluster, User } from '@kubernetes/client-node/dist/config_types.js'
import { loadYaml } from '@kubernetes/client-node/dist/yaml.js'
import type http from 'node:http'
import type https from 'node:https'
import { SyncError } from '../errors.js'
import { registerSecret } from '../redact.js'
import { describeSource, type Connection, type KubeconfigSource } from './connection.js'
import { fileReferences, insecureKubeTransport, programUsers } from './kubeconfig-checks.js'

/*
 * The one file that imports @kubernetes/client-node. We use its kubeconfig
 * parsing and its auth (tokens, client certificates, CA, proxies, auth
 * providers) through KubeConfig.applyToHTTPSOptions; transport.ts sends the
 * requests. The Lambda runtime imports this file only when a kubeconfig is
 * read (open-client.ts): evaluating client-node is a third of a worker's
 * cold start (docs/scaling.md#cold-start).
 */

type KubeconfigText = Exclude<KubeconfigSource, { kind: 'eks' }>

/** A kubeconfig's connection: its current cluster, and its user's credentials on every request. */
export function kubeconfigConnection(source: KubeconfigText): Connection {
  const kc = loadKubeConfig(source)
  const cluster = currentCluster(kc)
  let agent: http.Agent | undefined
  return {
    server: cluster.server,
    insecure: insecureKubeTransport(cluster),
    authorize: async () => {
      const options: https.RequestOptions = {}
      await kc.applyToHTTPSOptions(options)
      // The agent (TLS material, proxy) is built once; headers are asked for every time.
      agent ??= options.agent as http.Agent | undefined
      const headers: Record<string, string> = {}
      for (const [key, value] of Object.entries(options.headers ?? {})) {
        if (value !== undefined) headers[key] = String(value)
      }
      return { agent, headers, ...(typeof options.auth === 'string' ? { auth: options.auth } : {}) }
    },
  }
}

/**
 * A validated KubeConfig. Problems become a SyncError naming the secret id or
 * the file and what is wrong, never quoting the contents; every credential
 * found is registered with the redactor.
 */
export function loadKubeConfig(source: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig()
  if (source.kind === 'eks') {
    // Tests and tools only: the clients reach EKS through eks-connection.ts.
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
  if (source.context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === source.context)) {
      throw new SyncError(`${where} has no context "${source.context}"`, { context })
    }
    kc.setCurrentContext(source.context)
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
