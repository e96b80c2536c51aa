/**
 * docs/design.md, invariant 3: resourceVersions are compared as integers where both are
 * decimal (etcd-backed API servers use the etcd revision); otherwise they are
 * opaque, as the Kubernetes API conventions say, and any difference counts as
 * newer, so a write is never blocked by a comparison we cannot make.
 */

const decimal = /^(0|[1-9]\d*)$/

function isDecimalResourceVersion(rv: string): boolean {
  return decimal.test(rv)
}

/** True when both are decimal, so an order between them is known. */
export function areComparable(a: string, b: string): boolean {
  return isDecimalResourceVersion(a) && isDecimalResourceVersion(b)
}

/**
 * -1, 0 or 1 for decimal versions (length first, then lexicographic: exact for
 * integers of any size without BigInt). For opaque versions: 0 when equal and
 * 1 otherwise, that is, each counts as newer than the other.
 */
export function compareResourceVersions(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0
  if (!areComparable(a, b)) return 1
  if (a.length !== b.length) return a.length > b.length ? 1 : -1
  return a > b ? 1 : -1
}

/** Whether `candidate` should replace `stored`. */
export function isNewer(candidate: string, stored: string): boolean {
  return compareResourceVersions(candidate, stored) > 0
}
