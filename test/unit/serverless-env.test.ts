import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { variables } from '../../lib/config-variables.js'

const yml = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8')

/*
 * The fleet's deployment-shape variables come from a deploy parameter
 * (`--param=clusters=...`), whose default is the deploying shell's variable
 * with the documented default: the same value either way.
 */
const FROM_PARAMS: Record<string, string> = {
  CLUSTERS: 'clusters',
  CLUSTERS_SECRET_ID: 'clustersSecretArn',
  EKS_DISCOVERY_TAG: 'eksDiscoveryTag',
  EKS_DISCOVERY_REGIONS: 'eksDiscoveryRegions',
  FANOUT: 'fanout',
}

const envDefault = (text: string, indent: number, key: string, name: string) =>
  new RegExp(`^ {${indent}}${key}: \\$\\{env:${name}, '([^']*)'\\}$`, 'm').exec(text)

describe('serverless.yml environment', () => {
  it('passes every variable through from the deploying shell, with the documented default', () => {
    for (const spec of Object.values(variables)) {
      if (spec.name in FROM_PARAMS) continue
      const line = envDefault(yml, 4, spec.name, spec.name)
      expect(line, `${spec.name} is missing from provider.environment`).not.toBeNull()
      expect(line?.[1], `${spec.name}'s default`).toBe(spec.default ?? '')
    }
  })

  it('takes the fleet variables from parameters that default to the shell’s variable and the documented default', () => {
    for (const [name, param] of Object.entries(FROM_PARAMS)) {
      const spec = Object.values(variables).find((s) => s.name === name)
      expect(spec, `${name} is not in lib/config-variables.ts`).toBeDefined()
      expect(yml, `${name} in provider.environment`).toMatch(
        new RegExp(`^ {4}${name}: \\$\\{param:${param}\\}$`, 'm'),
      )
      const line = envDefault(yml, 4, param, name)
      expect(line, `params.default.${param}`).not.toBeNull()
      expect(line?.[1], `${name}'s default`).toBe(spec?.default ?? '')
    }
  })
})
