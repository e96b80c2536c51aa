import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { variableNames } from '../../lib/config.js'
import { configTable, formattedReadme } from '../../scripts/config-table.js'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

describe('README configuration reference', () => {
  it('is exactly the table generated from lib/config (run npm run docs:config after changing a variable)', async () => {
    expect(await formattedReadme(readme)).toBe(readme)
  })

  it('lists every variable the code reads', () => {
    for (const name of variableNames) expect(configTable()).toContain(`| \`${name}\` |`)
  })
})
