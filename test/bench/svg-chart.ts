/*
 * A small hand-written SVG chart: two panels side by side sharing the x axis
 * (objects, log scale), each with one or more polylines.
 */

export interface Series {
  readonly label: string
  readonly color: string
  readonly points: readonly { x: number; y: number }[]
}

export interface Panel {
  readonly title: string
  readonly unit: string
  readonly series: readonly Series[]
}

const W = 380
const H = 260
const M = { left: 56, right: 12, top: 30, bottom: 44 }

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;')
const fmt = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(Math.round(n * 10) / 10))

function panel(p: Panel, xs: readonly number[], offsetX: number): string {
  const ys = p.series.flatMap((s) => s.points.map((pt) => pt.y))
  const yMax = Math.max(1, ...ys) * 1.1
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)]
  const lx = (x: number) =>
    xMin === xMax
      ? (W - M.left - M.right) / 2
      : ((Math.log(x) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) *
        (W - M.left - M.right)
  const sx = (x: number) => offsetX + M.left + lx(x)
  const sy = (y: number) => M.top + (1 - y / yMax) * (H - M.top - M.bottom)
  const parts: string[] = []
  parts.push(
    `<text x="${offsetX + W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`,
  )
  parts.push(
    `<line x1="${offsetX + M.left}" y1="${sy(0)}" x2="${offsetX + W - M.right}" y2="${sy(0)}" stroke="#333"/>`,
    `<line x1="${offsetX + M.left}" y1="${M.top}" x2="${offsetX + M.left}" y2="${sy(0)}" stroke="#333"/>`,
  )
  for (let i = 0; i <= 4; i++) {
    const y = (yMax / 1.1) * (i / 4)
    parts.push(
      `<line x1="${offsetX + M.left}" y1="${sy(y)}" x2="${offsetX + W - M.right}" y2="${sy(y)}" stroke="#ddd"/>`,
      `<text x="${offsetX + M.left - 6}" y="${sy(y) + 4}" text-anchor="end">${fmt(y)}</text>`,
    )
  }
  for (const x of xs) {
    parts.push(`<text x="${sx(x)}" y="${sy(0) + 16}" text-anchor="middle">${fmt(x)}</text>`)
  }
  parts.push(
    `<text x="${offsetX + W / 2}" y="${H - 8}" text-anchor="middle">objects (log scale)</text>`,
    `<text x="${offsetX + 14}" y="${M.top + (H - M.top - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 ${offsetX + 14} ${M.top + (H - M.top - M.bottom) / 2})">${esc(p.unit)}</text>`,
  )
  p.series.forEach((s, i) => {
    const pts = s.points.map((pt) => `${sx(pt.x).toFixed(1)},${sy(pt.y).toFixed(1)}`).join(' ')
    parts.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`)
    for (const pt of s.points)
      parts.push(
        `<circle cx="${sx(pt.x).toFixed(1)}" cy="${sy(pt.y).toFixed(1)}" r="3" fill="${s.color}"/>`,
      )
    const ly = M.top + 6 + i * 14
    parts.push(
      `<rect x="${offsetX + M.left + 8}" y="${ly - 8}" width="10" height="3" fill="${s.color}"/>`,
      `<text x="${offsetX + M.left + 22}" y="${ly - 4}">${esc(s.label)}</text>`,
    )
  })
  return parts.join('\n')
}

export function twoPanelChart(left: Panel, right: Panel, xs: readonly number[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W * 2}" height="${H}" viewBox="0 0 ${W * 2} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W * 2}" height="${H}" fill="white"/>`,
    panel(left, xs, 0),
    panel(right, xs, W),
    '</svg>',
    '',
  ].join('\n')
}
