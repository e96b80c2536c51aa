import { writeFileSync } from 'node:fs'

export interface KubeconfigSpec {
  server: string
  token: string
  ca?: string
  user?: string
  /** Needed by @kubernetes/client-node 1.x to accept a plain http:// server at all. */
  insecureSkipTlsVerify?: boolean
}

// JSON is valid YAML, so kubectl and @kubernetes/client-node both read these files.
export function kubeconfigText(spec: KubeconfigSpec): string {
  const { server, token, ca, user = 'admin' } = spec
  const cluster: Record<string, string | boolean> = { server }
  if (spec.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true
  if (ca !== undefined) cluster['certificate-authority-data'] = Buffer.from(ca).toString('base64')
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kms-stack', cluster }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: `kms-stack-${user}`, context: { cluster: 'kms-stack', user } }],
    'current-context': `kms-stack-${user}`,
  }
  return `${JSON.stringify(config, null, 2)}\n`
}

export function writeKubeconfig(path: string, spec: KubeconfigSpec): string {
  writeFileSync(path, kubeconfigText(spec), { mode: 0o600 })
  return path
}
