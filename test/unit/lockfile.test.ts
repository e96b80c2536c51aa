import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

/*
 * A user's CI runs `npm ci`, which refuses a lock that does not match
 * package.json exactly (an optional dependency missing from the lock is
 * enough). `.ci/run` and scripts/ensure-deps.sh rely on it with no fallback.
 */
describe('package-lock.json', () => {
  it('is complete and in step with package.json: npm ci accepts it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kms-lock-'))
    try {
      for (const file of ['package.json', 'package-lock.json'])
        copyFileSync(join(process.cwd(), file), join(dir, file))
      const run = () =>
        execFileSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
          cwd: dir,
          stdio: 'pipe',
          encoding: 'utf8',
        })
      expect(run).not.toThrow()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
