export interface Progress {
  tick(): void
  done(): void
}

// A bar redrawn in place on a terminal; in CI logs, one line per tenth so logs stay short.
export function createProgress(total: number, label: string, out = process.stderr): Progress {
  let count = 0
  let lastDecile = -1
  const width = 30
  const draw = () => {
    const ratio = total === 0 ? 1 : count / total
    if (out.isTTY) {
      const filled = Math.round(ratio * width)
      const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`
      out.write(`\r${label} [${bar}] ${count}/${total}`)
      return
    }
    const decile = Math.floor(ratio * 10)
    if (decile !== lastDecile) {
      lastDecile = decile
      out.write(`${label} ${count}/${total}\n`)
    }
  }
  return {
    tick() {
      count++
      draw()
    },
    done() {
      if (out.isTTY) out.write('\n')
    },
  }
}
