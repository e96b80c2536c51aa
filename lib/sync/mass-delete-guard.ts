/*
 * The mass-delete guard (docs/operations.md#deletes-held). A complete list
 * deletes what it did not serve; served by the wrong cluster, an empty one,
 * or through a credential that sees nothing, that is everything. So a list
 * that would delete more than `maxFraction` of a resource's stored documents
 * deletes none of them until an operator confirms (`{"confirmDeletes": true}`)
 * or the setting allows it. Below `minStored` documents the guard stays out
 * of the way: a small resource emptying out is ordinary.
 */

/** MASS_DELETE_MAX_FRACTION and MASS_DELETE_MIN_STORED (lib/config-variables.ts). */
export interface MassDeleteLimits {
  /** 0-1; 1 disables the guard. */
  readonly maxFraction: number
  readonly minStored: number
}

/** What a complete list would do to a resource's documents. */
export interface DeletePlan {
  /** Documents stored before the pass (in the list's namespaces, if it had some). */
  readonly stored: number
  readonly listed: number
  readonly wouldDelete: number
}

/** Deletes held back, with the counts that decided it (the report, log line and metric name them). */
export interface DeleteHold extends DeletePlan {
  readonly maxFraction: number
  readonly minStored: number
  /** The most deletes the guard lets through for this many stored documents. */
  readonly maxDeletes: number
}

/**
 * The hold, when `plan` deletes more than `maxFraction` of at least
 * `minStored` stored documents; undefined when the deletes may go ahead.
 * The fraction is compared as a quotient, so a plan at exactly the limit
 * (50 of 100 at 0.5) goes ahead whatever the floating-point product says.
 */
export function holdDeletes(limits: MassDeleteLimits, plan: DeletePlan): DeleteHold | undefined {
  const { maxFraction, minStored } = limits
  if (maxFraction >= 1 || plan.stored === 0 || plan.stored < minStored) return undefined
  if (plan.wouldDelete / plan.stored <= maxFraction) return undefined
  return { ...plan, maxFraction, minStored, maxDeletes: maxDeletesOf(plan.stored, maxFraction) }
}

/** The largest n with n / stored <= maxFraction (the quotient the decision uses). */
function maxDeletesOf(stored: number, maxFraction: number): number {
  let n = Math.floor(stored * maxFraction)
  while (n > 0 && n / stored > maxFraction) n--
  while ((n + 1) / stored <= maxFraction) n++
  return n
}

/** The report's `error` for a hold: the counts, and what an operator does about it. */
export function describeHold(hold: DeleteHold): string {
  const percent = Math.round(hold.maxFraction * 100)
  return (
    `deletes held: the list would delete ${hold.wouldDelete} of ${hold.stored} stored documents ` +
    `(${hold.listed} listed), more than ${percent}% (at most ${hold.maxDeletes}); nothing deleted, ` +
    'checkpoint not moved. Check the cluster and credentials, then reconcile with ' +
    '{"confirmDeletes": true} to apply them'
  )
}
