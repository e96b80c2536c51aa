import { enforceSecureTransport } from '../insecure-transport.js'
import type { Guard } from '../resilience/circuit-breaker.js'
import { makeDiscover } from './discovery.js'
import { makeListPage } from './list-page.js'
import type { DiscoverFn, ListPageFn, WatchStreamFn } from './operations.js'
import { createTransport, type Authorize } from './transport.js'
import { makeWatchStream } from './watch-stream.js'

/*
 * A Kubernetes client over one API server connection, whatever its
 * credentials. Nothing here reads a kubeconfig: an EKS cluster
 * (eks-connection.ts) never needs one, and kubeconfig.ts is loaded when one
 * is read (docs/scaling.md#cold-start).
 */

/** Where the cluster credentials come from (docs/design.md#configuration-contract). */
export type KubeconfigSource =
  /** Kubeconfig YAML or JSON fetched from Secrets Manager. */
  | {
      readonly kind: 'text'
      readonly text: string
      readonly secretId: string
      /** A registry entry's `context`; unset: the kubeconfig's current-context. */
      readonly context?: string
    }
  /** KUBECONFIG: a file path (local runs). */
  | { readonly kind: 'file'; readonly path: string; readonly context?: string }
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

/** One API server and how to authorize a request to it. */
export interface Connection {
  readonly server: string
  /** Each way the connection is plain text or skips the certificate check (kubeconfig-checks.ts). */
  readonly insecure: readonly string[]
  readonly authorize: Authorize
}

export function describeSource(source: KubeconfigSource): string {
  if (source.kind === 'text') return `kubeconfig secret ${source.secretId}`
  if (source.kind === 'file') return `kubeconfig file ${source.path}`
  return 'EKS cluster'
}

/** The client, once the connection is known to be secure (or ALLOW_INSECURE_TLS accepts it). */
export function clientOver(
  connection: Connection,
  source: KubeconfigSource,
  options: KubeClientOptions,
): KubeClient {
  enforceSecureTransport(
    'kubernetes',
    `${describeSource(source)}: API server ${connection.server}`,
    connection.insecure,
    options.allowInsecureTls === true,
  )
  const transport = createTransport(connection.server, connection.authorize)
  const timeoutMs = options.requestTimeoutMs
  // Every request goes through the API server's breaker (a watch: until it is connected).
  const { guard } = options
  const listPage = makeListPage(transport, { timeoutMs })
  const discover = makeDiscover(transport, { timeoutMs })
  const watchStream = makeWatchStream(transport, { connectTimeoutMs: timeoutMs })
  return Object.freeze({
    server: connection.server,
    listPage: (request) => guard(() => listPage(request)),
    discover: (ref, opts) => guard(() => discover(ref, opts)),
    watchStream: (request) => guard(() => watchStream(request)),
  } satisfies KubeClient)
}
