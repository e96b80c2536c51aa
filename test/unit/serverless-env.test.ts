import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { variables } from '../../lib/config-variables.js'

const yml = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8')

describe('serverless.yml environment', () => {
  it('passes every variable through from the deploying shell, with the documented default', () => {
    for (const spec of Object.values(variables)) {
      const line = new RegExp(`^ {4}${spec.name}: \\$\\{env:${spec.name}, '([^']*)'\\}$`, 'm').exec(
        yml,
      )
      expect(line, `${spec.name} is missing from provider.environment`).not.toBeNull()
      expect(line?.[1], `${spec.name}'s default`).toBe(spec.default ?? '')
    }
  })
})
