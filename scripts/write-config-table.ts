/** `npm run docs:config`: rewrites the configuration table in README.md (Prettier-formatted). */
import { readFileSync, writeFileSync } from 'node:fs'
import { formattedReadme } from './config-table.js'

const path = new URL('../README.md', import.meta.url)
writeFileSync(path, await formattedReadme(readFileSync(path, 'utf8')))
