import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'

import { files, stackDir } from './paths.js'

export interface Credentials {
  adminToken: string
  restrictedToken: string
  mongoUser: string
  mongoPassword: string
}

// Generated once per stack directory and kept: FerretDB only creates its user on first start and
// the API server's token file must keep matching the kubeconfigs already handed out.
export function loadCredentials(): Credentials {
  if (existsSync(files.credentials)) {
    return JSON.parse(readFileSync(files.credentials, 'utf8')) as Credentials
  }
  const secret = () => randomBytes(16).toString('hex')
  const creds: Credentials = {
    adminToken: `admin-${secret()}`,
    restrictedToken: `restricted-${secret()}`,
    mongoUser: 'kms',
    mongoPassword: secret(),
  }
  mkdirSync(stackDir, { recursive: true })
  writeFileSync(files.credentials, JSON.stringify(creds, null, 2), { mode: 0o600 })
  return creds
}
