import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'

import { loadCredentials } from './credentials.js'
import { dirs, files } from './paths.js'

export const restrictedUser = 'restricted'

// Written before every start so a token change in credentials.json is always picked up.
export function writeKubeMaterial(): void {
  mkdirSync(dirs.kubeCerts, { recursive: true })
  if (!existsSync(files.serviceAccountKey)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    writeFileSync(files.serviceAccountKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    })
  }
  const { adminToken, restrictedToken } = loadCredentials()
  const lines = [
    `${adminToken},admin,admin-uid,system:masters`,
    `${restrictedToken},${restrictedUser},${restrictedUser}-uid`,
  ]
  writeFileSync(files.tokens, `${lines.join('\n')}\n`, { mode: 0o600 })
}
