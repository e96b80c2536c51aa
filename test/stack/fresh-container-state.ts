import { beforeEach } from 'vitest'
import { resetBreakers } from '../../lib/resilience/circuit-breaker.js'
import { resetPacing } from '../../lib/store/writes/adaptive-pacing.js'

// The breakers and the adaptive pacing live as long as a Lambda container, on
// purpose; a test file is not one container, so each test starts fresh.
beforeEach(() => {
  resetBreakers()
  resetPacing()
})
