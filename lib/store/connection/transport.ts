import { isLoopbackHost } from '../../insecure-transport.js'

/*
 * What a MongoDB connection string says about its transport
 * (docs/security.md#transport). Insecure:
 *  - an explicit downgrade, to any host: tls=false or ssl=false, tlsInsecure,
 *    tlsAllowInvalidCertificates, tlsAllowInvalidHostnames set to true;
 *  - a mongodb:// URI without tls=true (or ssl=true) to a host that is not
 *    loopback: the driver's default for mongodb:// is plain text, so the
 *    password and every document would cross the network readable.
 * mongodb+srv:// turns TLS on by default (Atlas); a mongodb:// URI to
 * localhost, 127.0.0.0/8, ::1 or a Unix socket never leaves the machine, and
 * is how a local MongoDB is reached, so it is accepted without TLS.
 */

/** The hosts (with ports) and the options of a connection string; never its credentials. */
export interface MongoUriShape {
  readonly srv: boolean
  readonly hosts: readonly string[]
  /** Option names lower-cased, as the driver reads them (case-insensitive). */
  readonly options: ReadonlyMap<string, string>
}

export function mongoUriShape(uri: string): MongoUriShape {
  const scheme = /^(mongodb(?:\+srv)?):\/\//i.exec(uri)
  const rest = scheme ? uri.slice(scheme[0].length) : uri
  const end = rest.search(/[/?]/)
  const authority = end === -1 ? rest : rest.slice(0, end)
  const hosts = authority
    .slice(authority.lastIndexOf('@') + 1)
    .split(',')
    .filter((h) => h !== '')
    .map(decodeHost)
  const query = rest.indexOf('?')
  const options = new Map<string, string>()
  if (query !== -1) {
    for (const [key, value] of new URLSearchParams(rest.slice(query + 1)))
      options.set(key.toLowerCase(), value.trim().toLowerCase())
  }
  return { srv: scheme?.[1]?.toLowerCase() === 'mongodb+srv', hosts, options }
}

function decodeHost(host: string): string {
  try {
    return decodeURIComponent(host)
  } catch {
    return host
  }
}

/** `host:port` or `[v6]:port` or a socket path: the host alone. */
function hostOf(hostAndPort: string): string {
  if (hostAndPort.startsWith('[')) return hostAndPort.slice(0, hostAndPort.indexOf(']') + 1)
  if (hostAndPort.startsWith('/')) return hostAndPort
  return hostAndPort.replace(/:\d*$/, '')
}

const unverified: ReadonlyArray<readonly [string, string]> = [
  ['tlsinsecure', 'tlsInsecure=true: neither the certificate nor the host name is checked'],
  [
    'tlsallowinvalidcertificates',
    'tlsAllowInvalidCertificates=true: the certificate is not checked',
  ],
  ['tlsallowinvalidhostnames', 'tlsAllowInvalidHostnames=true: the host name is not checked'],
]

/** Each way this connection string is plain text or unverified TLS; empty when it is neither. */
export function insecureMongoTransport(uri: string): string[] {
  const { srv, hosts, options } = mongoUriShape(uri)
  const problems: string[] = []
  const tls = options.get('tls') ?? options.get('ssl')
  if (tls === 'false') problems.push('tls=false: plain text')
  for (const [option, problem] of unverified) {
    if (options.get(option) === 'true') problems.push(problem)
  }
  if (!srv && tls === undefined) {
    const remote = hosts.filter((h) => !isLoopbackHost(hostOf(h)))
    if (remote.length > 0)
      problems.push(
        `mongodb:// without tls=true to ${remote.join(', ')}: the driver connects in plain text`,
      )
  }
  return problems
}
