import { dirname, isAbsolute, join } from 'node:path'
import { readFileSync } from 'node:fs'
import { SyncError } from '../errors.js'
import { registerSecret } from '../redact.js'
import { describeSource, type Connection, type KubeconfigSource } from './connection.js'
import { kubeconfigAuthorize, unsupportedAuthProvider } from './kubeconfig-auth.js'
import { fileReferences, insecureKubeTransport, programUsers } from './kubeconfig-checks.js'
import { KubeConfig, parseKubeconfigText, type Cluster, type User } from './kubeconfig-parse.js'
import { unsupportedProxy } from './proxy-agent.js'

/*
 * A kubeconfig's connection: its current cluster, and its user's credentials
 * on every request; transport.ts sends the requests. Read here, without
 * @kubernetes/client-node, whose kubeconfig handling (with node-fetch, its
 * auth providers, jsonpath, socks and proxy agents) was 1.3 MB of each
 * worker's 3.6 MB bundle (docs/scaling.md#cold-start). Fields, defaults and
 * auth are client-node's (kubeconfig-parse.ts, kubeconfig-auth.ts). The
 * Lambda runtime imports this file only when a kubeconfig is read (open-client.ts).
 */

type KubeconfigText = Exclude<KubeconfigSource, { kind: 'eks' }>

/** A kubeconfig's connection: its current cluster, and its user's credentials on every request. */
export function kubeconfigConnection(source: KubeconfigText): Connection {
  const kc = loadKubeConfig(source)
  const cluster = currentCluster(kc)
  return {
    server: cluster.server,
    insecure: insecureKubeTransport(cluster),
    authorize: kubeconfigAuthorize(cluster, kc.getCurrentUser()),
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
      const parsed = parseKubeconfigText(source.text)
      const files = fileReferences(parsed)
      if (files.length > 0) {
        throw new SyncError(
          `${where} is refused: ${files.join('; ')}. A kubeconfig from Secrets Manager must carry its token and certificates inline (token, client-certificate-data, client-key-data, certificate-authority-data) (docs/security.md#what-the-functions-can-read)`,
          { context },
        )
      }
      kc.loadFromObject(parsed)
    } else loadFromFile(kc, source.path)
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
  for (const user of kc.getUsers()) registerUserSecrets(user)
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
  // The field checks (kubeconfig-parse.ts) name the field, e.g. "clusters[0].cluster.server is missing".
  return error instanceof Error && /^(clusters|users|contexts)\[\d+\]/.test(error.message)
    ? error.message
    : 'unreadable structure'
}

function problemOf(kc: KubeConfig): string | undefined {
  const name = kc.getCurrentContext()
  if (!name) return 'no current-context'
  const context = kc.getContextObject(name)
  if (!context) return `current-context "${name}" is not among its contexts`
  const cluster = kc.getCluster(context.cluster)
  if (!cluster) return `context "${name}" names cluster "${context.cluster}", which is missing`
  const user = kc.getUser(context.user)
  if (!user) return `context "${name}" names user "${context.user}", which is missing`
  return (
    unsupportedAuthProvider(user) ??
    (cluster.proxyUrl ? unsupportedProxy(cluster.proxyUrl, cluster.server) : undefined)
  )
}

/** client-node's loadFromFile: a file's relative certificate paths are relative to it. */
function loadFromFile(kc: KubeConfig, path: string): void {
  kc.loadFromString(readFileSync(path).toString('utf-8'))
  const relativeTo = (file: string | undefined) =>
    file && !isAbsolute(file) ? join(dirname(path), file) : file
  for (const cluster of kc.getClusters()) cluster.caFile = relativeTo(cluster.caFile)
  for (const user of kc.getUsers()) {
    user.certFile = relativeTo(user.certFile)
    user.keyFile = relativeTo(user.keyFile)
  }
}

function registerUserSecrets(user: User): void {
  registerSecret(user.token)
  registerSecret(user.password)
  registerSecret(user.keyData)
  const config = user.authProvider?.config ?? {}
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
