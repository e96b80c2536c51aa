/**
 * The database the functions write to, reached with their settings: MONGODB_URI,
 * or MONGODB_SECRET_ID (a Secrets Manager secret holding the connection string,
 * which wins, as in lib/runtime/fetched-secrets.ts), MONGODB_DB, the same
 * timeouts, TLS rules and retry (lib/store/connection/client.ts).
 */
import type { Db } from 'mongodb'
import { fetchSecretString } from '../../lib/aws/secret-string.js'
import type { Config } from '../../lib/config.js'
import { MongoConnection } from '../../lib/store/connection/client.js'
import { parseMongoSecret } from '../../lib/store/connection/secret.js'
import { SyncError } from '../../lib/errors.js'

async function connectionString(config: Config): Promise<string> {
  const { secretId, uri } = config.mongodb
  if (secretId) return parseMongoSecret(await fetchSecretString(secretId), secretId)
  if (uri) return uri
  throw new SyncError(
    'No MongoDB connection: set MONGODB_URI, or MONGODB_SECRET_ID (a Secrets Manager secret holding it), as for the functions',
    { context: { operation: 'history' } },
  )
}

export async function connectHistory(
  config: Config,
): Promise<{ db: Db; close: () => Promise<void> }> {
  const mongo = new MongoConnection(config)
  const db = await mongo.connectDB({ uri: await connectionString(config) })
  return { db, close: () => mongo.disconnectDB() }
}
