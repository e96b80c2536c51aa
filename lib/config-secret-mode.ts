import type { SecretMode } from './secret-policy.js'

/** The variables that choose what is kept of a Secret, as parsed. */
export interface SecretModeVariables {
  readonly SECRET_MODE: SecretMode | undefined
  readonly SYNC_SECRET_DATA: boolean | undefined
  readonly SECRET_HASH_KEY: string | undefined
  readonly SECRET_HASH_KEY_SECRET_ID: string | undefined
}

/**
 * SECRET_MODE, or what the older variables meant (docs/security.md#what-is-stored):
 * SYNC_SECRET_DATA=true stored the values (plain), a hash key stored HMACs.
 * A combination that says two different things is refused, naming the
 * replacement, rather than one of them silently winning.
 */
export function resolveSecretMode(
  v: SecretModeVariables,
): { readonly mode: SecretMode } | { readonly problem: string } {
  const hasKey = v.SECRET_HASH_KEY !== undefined || v.SECRET_HASH_KEY_SECRET_ID !== undefined
  const explicit = v.SECRET_MODE
  if (explicit === undefined) {
    if (v.SYNC_SECRET_DATA === true) return { mode: 'plain' }
    return { mode: hasKey ? 'hmac' : 'metadata' }
  }
  if (v.SYNC_SECRET_DATA === true && explicit !== 'plain') {
    return {
      problem: `SYNC_SECRET_DATA=true is invalid: expected it unset with SECRET_MODE=${explicit} (SYNC_SECRET_DATA=true is the old name of SECRET_MODE=plain)`,
    }
  }
  if (explicit === 'hmac' && !hasKey) {
    return {
      problem:
        'SECRET_MODE=hmac is invalid: expected a key in SECRET_HASH_KEY_SECRET_ID (or SECRET_HASH_KEY)',
    }
  }
  if (explicit !== 'hmac' && hasKey) {
    const which =
      v.SECRET_HASH_KEY_SECRET_ID !== undefined ? 'SECRET_HASH_KEY_SECRET_ID' : 'SECRET_HASH_KEY'
    return {
      problem: `SECRET_MODE=${explicit} is invalid: expected hmac, or ${which} unset (a hash key is used only with SECRET_MODE=hmac)`,
    }
  }
  return { mode: explicit }
}
