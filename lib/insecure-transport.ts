import { isIP } from 'node:net'
import { NotRetriedError } from './errors.js'
import { logger } from './log.js'

/*
 * No silent downgrade of TLS (docs/security.md#transport): a connection to the
 * API server or MongoDB that would be plain text, or TLS whose certificate is
 * not checked, is refused unless ALLOW_INSECURE_TLS=true, and logged as a
 * warning when allowed. What counts as insecure is decided where the
 * connection is described (lib/kube/kubeconfig-checks.ts,
 * lib/store/connection/transport.ts); this file only applies the setting.
 */

/** Plain text or unverified TLS was configured, and ALLOW_INSECURE_TLS is not true. */
export class InsecureTransportError extends NotRetriedError {
  override readonly name = 'InsecureTransportError'
  override readonly reason = 'insecure-transport'
}

export type TransportTarget = 'kubernetes' | 'mongodb'

/**
 * Throws InsecureTransportError naming `where` and every problem, or, when
 * `allow` (ALLOW_INSECURE_TLS) is true, logs them as one `transport.insecure`
 * warning. Nothing happens without problems.
 */
export function enforceSecureTransport(
  target: TransportTarget,
  where: string,
  problems: readonly string[],
  allow: boolean,
): void {
  if (problems.length === 0) return
  const what = problems.join('; ')
  if (!allow) {
    throw new InsecureTransportError(
      `${where}: ${what}. Refused: the connection would be plain text or its certificate unchecked. Fix it, or set ALLOW_INSECURE_TLS=true to accept it (docs/security.md#transport)`,
      { context: { operation: `connect to ${target}` } },
    )
  }
  logger.warn(`${where}: ${what}; accepted because ALLOW_INSECURE_TLS=true`, {
    event: 'transport.insecure',
    target,
    problems,
  })
}

/**
 * A host name or address that cannot leave the machine: `localhost`,
 * 127.0.0.0/8, ::1 (brackets allowed), or a Unix socket path.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (h.startsWith('/') || h.endsWith('.sock')) return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || h.startsWith('::ffff:127.')
  return false
}
