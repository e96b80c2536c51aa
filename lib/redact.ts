/**
 * Scrubs credentials out of text that may reach a log line or an error
 * message: passwords in connection strings, bearer tokens, EKS tokens, and
 * values registered at run time (secrets fetched from Secrets Manager).
 */
const patterns: ReadonlyArray<readonly [RegExp, string]> = [
  // scheme://user:password@host -> scheme://user:***@host
  [/([a-z][a-z0-9+.-]*:\/\/[^:/\s@]*):[^@\s/]+@/gi, '$1:***@'],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1***'],
  [/k8s-aws-v1\.[A-Za-z0-9_-]+/g, 'k8s-aws-v1.***'],
  [
    /("?(?:password|token|secret|client-key-data|client-certificate-data)"?\s*[:=]\s*)"?[^\s",}]+"?/gi,
    '$1"***"',
  ],
]

const knownSecrets = new Set<string>()

/** Registers a value (a fetched secret, a token) that must never be printed. */
export function registerSecret(value: string | undefined): void {
  // Short values would blank out ordinary words; they are not credentials anyway.
  if (value && value.length >= 8) knownSecrets.add(value)
}

export function redactText(text: string): string {
  let out = text
  for (const [re, replacement] of patterns) out = out.replace(re, replacement)
  for (const secret of knownSecrets) if (out.includes(secret)) out = out.split(secret).join('***')
  return out
}

/** A connection string safe to show: the password replaced, everything else kept. */
export function redactUri(uri: string | undefined): string | undefined {
  return uri === undefined ? undefined : redactText(uri)
}
