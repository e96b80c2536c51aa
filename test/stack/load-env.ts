import { readEnvFile } from './env-file.js'

// A user's own MONGODB_URI is honoured (the stack passed it through at `up`). Everything else
// comes from the stack even when set in the shell: a developer's KUBECONFIG or AWS keys point at
// real clusters and accounts, and the tests must never touch those.
const userMayOverride = new Set(['MONGODB_URI'])

const env = readEnvFile()
if (!env) throw new Error('no .stack/env: the integration global setup should have written it')
for (const [key, value] of Object.entries(env)) {
  if (userMayOverride.has(key) && process.env[key]) continue
  process.env[key] = value
}
