/*
 * Bounds on what a person or a setting may ask one invocation to do
 * (docs/security.md#bounded-input). Every resource is a task with its own
 * lease, discovery call and lists; every namespace of a manual resync is one
 * more list per resource. Past these, one invocation cannot finish within
 * Lambda's 15 minutes anyway: split the work into several invocations.
 */

/** Most resources in SYNC_RESOURCES or in one invocation's `resources`. */
export const MAX_RESOURCES = 100

/** Most namespaces in one reconcile's `namespaces`. */
export const MAX_NAMESPACES = 100

/** A namespace name: an RFC 1123 DNS label, as the API server requires (at most 63 characters). */
export const namespacePattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

/** The values in first-seen order, each once. */
export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)]
}
