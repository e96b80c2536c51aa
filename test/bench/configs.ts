/*
 * The two configurations the bench runs our sync with. `tuned` is stated in
 * the output; `defaults` are the spec's (DESIGN.md configuration contract).
 *
 * Tuned for the stack's FerretDB 1.24 (SQLite): inserts dominate an initial
 * sync, and FerretDB decodes and validates each command's documents in Go, so
 * two chunks of 250 in flight keep both cores busy where one chunk left one
 * idle, with no pause between them. Replaces stay in slices of 20 statements
 * per command whatever the chunk (write-protocol.ts): an `update` command holds
 * one of FerretDB's 100 pooled SQLite connections per statement until it ends,
 * and about 100 in flight deadlock the server.
 */

export const tunedSettings = {
  BULK_WRITE_BATCH_SIZE: '250',
  BULK_WRITE_MAX_CONCURRENT: '2',
  BULK_WRITE_BATCH_DELAY_MS: '0',
  K8S_LIST_PAGE_SIZE: '500',
} as const

export const defaultSettings = {
  BULK_WRITE_BATCH_SIZE: '100',
  BULK_WRITE_MAX_CONCURRENT: '3',
  BULK_WRITE_BATCH_DELAY_MS: '100',
  K8S_LIST_PAGE_SIZE: '500',
} as const

export const BENCH_CLUSTER = 'bench'
export const BENCH_RESOURCE = 'v1/configmaps'

export function describeSettings(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ')
}
