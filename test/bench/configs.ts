/*
 * The two configurations the bench runs our sync with. `tuned` is stated in
 * the output; `defaults` are the spec's (DESIGN.md configuration contract).
 *
 * Tuned for the stack's FerretDB 1.24 (SQLite): an `update` command holds one
 * of its 100 pooled SQLite connections per statement until the command ends,
 * so about 100 replace statements in flight deadlock the server (a watch
 * batch of 101 upserts did, here). Batch size x concurrency stays below that.
 */

export const tunedSettings = {
  BULK_WRITE_BATCH_SIZE: '90',
  BULK_WRITE_MAX_CONCURRENT: '1',
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
