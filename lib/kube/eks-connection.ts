import https from 'node:https'
import { registerSecret } from '../redact.js'
import type { Connection, KubeconfigSource } from './connection.js'
import { insecureKubeTransport } from './kubeconfig-checks.js'

/*
 * An EKS cluster's connection: its endpoint, its CA and an IAM bearer token
 * (lib/aws/eks-token.ts), exactly what KubeConfig.applyToHTTPSOptions made of
 * them (an https.Agent trusting that CA, the token as the Authorization
 * header) without loading @kubernetes/client-node: most of a worker's cold
 * start it would cost is saved (docs/scaling.md#cold-start).
 */

export function eksConnection(source: Extract<KubeconfigSource, { kind: 'eks' }>): Connection {
  // One agent per client: its TLS sessions and sockets are reused between requests.
  const agent = new https.Agent({ ca: Buffer.from(source.caData, 'base64') })
  return {
    server: source.server,
    // The server comes from eks:DescribeCluster; an http:// one is still refused.
    insecure: insecureKubeTransport({ name: 'eks', server: source.server, skipTLSVerify: false }),
    authorize: async () => {
      const token = await source.getToken()
      registerSecret(token)
      return { agent, headers: { Authorization: `Bearer ${token}` } }
    },
  }
}
