// Debian's Chromium driven by playwright-core for the console tests: launch, loopback-only network, axe, screenshots.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { ROOT } from '../fixtures/processes.ts'

/** Where screenshots go (git-ignored). */
export const ARTIFACTS = join(ROOT, 'test/e2e/artifacts')

/** Every wait in a browser step is bounded by this. */
export const STEP_TIMEOUT_MS = 15_000

function findChromium(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

/** The `chromium` on PATH (Debian's package), or null. */
export const CHROMIUM_PATH = findChromium()

/**
 * True when the browser tests must be skipped: no chromium, outside CI. In CI (CI=true) they run and
 * fail instead, so a missing browser can never pass silently.
 */
export const SKIP_BROWSER = CHROMIUM_PATH === null && process.env['CI'] !== 'true'
if (SKIP_BROWSER) {
  process.stderr.write(
    '\n*** SKIPPED: the web console browser tests: no `chromium` on PATH (apt-get install chromium; .ci/run does) ***\n\n',
  )
}

/** Launches Chromium headless with a fresh temporary profile (playwright's default for launch()). */
export function launchChromium(): Promise<Browser> {
  if (CHROMIUM_PATH === null) throw new Error('chromium is not installed (apt-get install chromium)')
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Starting Chromium on a loaded 2-core CI machine can take far longer than one page step.
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
  })
}

/**
 * A fresh context whose pages reach loopback only (oidc-provider's dev login page imports a web font;
 * tests never touch the network), with every step bounded.
 */
export async function newLoopbackContext(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, ...options })
  context.setDefaultTimeout(STEP_TIMEOUT_MS)
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS)
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url())
    return hostname === '127.0.0.1' ? route.continue() : route.abort('blockedbyclient')
  })
  return context
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: unknown[] }[]
}

const AXE_SOURCE = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8')

/**
 * Runs axe-core in `page` (WCAG 2.x A and AA rules plus best practices) and returns the serious and
 * critical violations. axe is evaluated through the DevTools protocol, which the page's CSP does not
 * govern: a <script> tag with inline content would be (rightly) refused by the console's CSP.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE)
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<unknown> } }
    ).axe
    const result = (await axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
      },
    })) as { violations: AxeViolation[] }
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }))
  })
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}
