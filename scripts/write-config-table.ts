/** `npm run docs:config`: rewrites the configuration table in README.md. */
import { readFileSync, writeFileSync } from 'node:fs'
import { replaceTable } from './config-table.js'

const path = new URL('../README.md', import.meta.url)
writeFileSync(path, replaceTable(readFileSync(path, 'utf8')))
