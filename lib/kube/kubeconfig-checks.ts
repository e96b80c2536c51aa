import type { Cluster, KubeConfig } from './kubeconfig-parse.js'

/*
 * What a kubeconfig may ask of the function (docs/security.md#what-the-functions-can-read).
 */

/**
 * Users that would run a program inside the function: `exec` (a credential
 * plugin: any command) and `auth-provider` (gcp and azure run their
 * `cmd-path`; oidc refreshes tokens against any URL). Whoever can write the
 * kubeconfig secret would run code with the function's role. One line per user.
 */
export function programUsers(kc: KubeConfig): string[] {
  const problems: string[] = []
  for (const user of kc.getUsers()) {
    if (user.exec)
      problems.push(`user "${user.name}" has an exec credential plugin (it runs a program)`)
    if (user.authProvider) {
      const name = (user.authProvider as { name?: unknown }).name
      const which = typeof name === 'string' && name !== '' ? ` "${name}"` : ''
      problems.push(`user "${user.name}" has an auth-provider${which} (it may run a program)`)
    }
  }
  return problems
}

/** Each way the connection to this API server is plain text or skips the certificate check. */
export function insecureKubeTransport(cluster: Cluster): string[] {
  const problems: string[] = []
  if (/^http:/i.test(cluster.server)) problems.push('http:// API server: plain text')
  if (cluster.skipTLSVerify)
    problems.push('insecure-skip-tls-verify: the server certificate is not checked')
  return problems
}

/** Kubeconfig fields that name a file the client reads (`token-file` as it loads: kubeconfig-parse.ts). */
const FILE_FIELDS = {
  users: ['token-file', 'client-certificate', 'client-key'],
  clusters: ['certificate-authority'],
} as const

/**
 * Each field of a parsed kubeconfig that names a file on the function's disk.
 * Whoever writes a kubeconfig secret could point `token-file` at
 * /proc/self/environ and have its contents sent as the bearer token to an API
 * server of their choosing; one from Secrets Manager must carry its token and
 * certificates inline (`token`, `*-data`). One line per field.
 */
export function fileReferences(raw: unknown): string[] {
  const problems: string[] = []
  const doc = (raw ?? {}) as Record<string, unknown>
  for (const [list, fields] of Object.entries(FILE_FIELDS)) {
    const key = list === 'users' ? 'user' : 'cluster'
    for (const entry of Array.isArray(doc[list]) ? (doc[list] as unknown[]) : []) {
      const named = (entry ?? {}) as Record<string, unknown>
      const body = (named[key] ?? {}) as Record<string, unknown>
      for (const field of fields)
        if (body[field] !== undefined && body[field] !== null && body[field] !== '')
          problems.push(`${key} "${String(named.name)}" reads ${field} from a file`)
    }
  }
  return problems
}
