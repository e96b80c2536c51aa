/** `npm run docs:config`: rewrites the configuration table in docs/configuration.md (Prettier-formatted). */
import { readFileSync, writeFileSync } from 'node:fs'
import { CONFIG_DOC, formattedConfigDoc } from './config-table.js'

writeFileSync(CONFIG_DOC, await formattedConfigDoc(readFileSync(CONFIG_DOC, 'utf8')))
