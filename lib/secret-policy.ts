/**
 * What is kept of a Secret (docs/design.md#secret-values): the modes of
 * SECRET_MODE and the annotations whose values are safe to keep. A foundation
 * file so that the configuration, the kube client and the mapper share it.
 */
export const secretModes = ['metadata', 'redacted', 'hmac', 'plain'] as const

export type SecretMode = (typeof secretModes)[number]

/**
 * Annotations that name things and never carry a Secret's contents. Any
 * other annotation may hold a copy of the manifest (kubectl's
 * last-applied-configuration, other apply tools, Helm, GitOps agents).
 */
export const defaultSecretAnnotationAllowlist: readonly string[] = [
  'kubernetes.io/service-account.name',
  'kubernetes.io/service-account.uid',
  'meta.helm.sh/release-name',
  'meta.helm.sh/release-namespace',
]

/** How Secrets are stored, as the mapper and the kube client need it. */
export interface SecretValuePolicy {
  readonly mode: SecretMode
  /** The HMAC key; set exactly when the mode is `hmac`. */
  readonly hashKey: string | undefined
  /** Annotation keys whose values are kept (every mode but `plain` hides the others). */
  readonly annotationAllowlist: readonly string[]
}

/** Any kind named Secret is treated as one, whatever its group (docs/design.md#secret-values). */
export function isSecretKind(kind: string | undefined): boolean {
  return kind === 'Secret'
}
