import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { variableNames } from '../../lib/config.js'
import { variables } from '../../lib/config-variables.js'
import { CONFIG_DOC, configTable, formattedConfigDoc } from '../../scripts/config-table.js'

const configDoc = readFileSync(CONFIG_DOC, 'utf8')
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

/** The rows of the README's hand-written short table: its "## Configuration" section. */
function readmeTableRows(): Array<{ name: string; default: string }> {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Configuration\n')) ?? ''
  return [...section.matchAll(/^\| `([A-Z0-9_]+)` +\| ([^|]+?) +\|/gm)].map((m) => ({
    name: m[1]!,
    default: m[2]!,
  }))
}

describe('docs/configuration.md reference', () => {
  it('is exactly the table generated from lib/config (run npm run docs:config after changing a variable)', async () => {
    expect(await formattedConfigDoc(configDoc)).toBe(configDoc)
  })

  it('lists every variable the code reads', () => {
    for (const name of variableNames) expect(configTable()).toContain(`| \`${name}\` |`)
  })
})

describe("README's essential configuration table", () => {
  it('names only variables that lib/config-variables.ts defines, with their defaults', () => {
    const rows = readmeTableRows()
    expect(rows.length).toBeGreaterThanOrEqual(10)
    for (const row of rows) {
      expect(variableNames, `README names ${row.name}`).toContain(row.name)
      const spec = variables[row.name as keyof typeof variables]
      const dflt = spec.default === undefined ? '(unset)' : `\`${spec.default}\``
      expect(row.default, `README default of ${row.name}`).toBe(dflt)
    }
  })
})
