/*
 * The two configurations the bench runs our sync with. `tuned` is stated in
 * the output; `defaults` are the configuration's defaults (docs/configuration.md).
 *
 * Tuned for the stack's FerretDB 1.24 (SQLite): the default chunks (100, three
 * in flight) without the pause between them. FerretDB's cost is per insert
 * command, so larger chunks insert slightly faster (20,000 documents: 250 x 2
 * 7.3 s, 100 x 3 7.9 s, one insertMany 5.7 s) but lift the process's memory
 * peaks (at 100,000 objects 250 x 2 peaked at 339 MB RSS, 100 x 3 at 308 MB;
 * peaks vary by about 50 MB between runs). Replaces stay in slices of 20
 * statements per command whatever the chunk (lib/store/writes/protocol/apply-chunk.ts): an `update`
 * command holds one of FerretDB's 100 pooled SQLite connections per statement
 * until it ends, and about 100 in flight deadlock the server.
 */

export const tunedSettings = {
  BULK_WRITE_BATCH_SIZE: '100',
  BULK_WRITE_MAX_CONCURRENT: '3',
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
