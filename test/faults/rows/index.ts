import type { Scenario } from '../scenario.js'
import { row01 } from './01-kube-reset.js'
import { row02 } from './02-http-bursts.js'
import { row03 } from './03-continue-410.js'
import { row04 } from './04-watch-cut.js'
import { row05 } from './05-watch-410.js'
import { row06 } from './06-mongo-reset-bulk.js'
import { row07 } from './07-mongo-stopped.js'
import { row08 } from './08-mongo-slow.js'
import { row09 } from './09-mongo-auth.js'
import { row10 } from './10-secrets-manager.js'
import { row11 } from './11-deadline.js'
import { row12 } from './12-overlap.js'
import { row13 } from './13-sigkill.js'
import { row14 } from './14-restricted.js'
import { row15 } from './15-hostile.js'
import { row16 } from './16-bad-input.js'

/** The rows, in order. */
export const rows: Scenario[] = [
  row01,
  row02,
  row03,
  row04,
  row05,
  row06,
  row07,
  row08,
  row09,
  row10,
  row11,
  row12,
  row13,
  row14,
  row15,
  row16,
]
