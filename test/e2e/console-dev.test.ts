// The web console under `sts-vend dev` (a real process), in Debian's Chromium: the dev-user picker and its grants.
import type { Browser, Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliProcess, spawnCli } from '../fixtures/processes.ts'
import {
  launchChromium,
  newLoopbackContext,
  SKIP_BROWSER,
  STEP_TIMEOUT_MS,
  screenshot,
  seriousViolations,
} from './console-browser.ts'

let dev: CliProcess
let browser: Browser
let serviceUrl: string
let issuerUrl: string

async function waitForConsoleLine(proc: CliProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (/web console:/.test(proc.stdout())) return
    if (proc.child.exitCode !== null) throw new Error(`dev exited ${proc.child.exitCode}: ${proc.stderr()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`sts-vend dev printed no console line within ${timeoutMs} ms: ${proc.stdout()}`)
}

beforeAll(async () => {
  if (SKIP_BROWSER) return
  // Port 0 everywhere: each server binds a free port itself (no race with other test files), and the
  // banner says which.
  dev = spawnCli(['dev', '--port', '0', '--issuer-port', '0', '--emulator-port', '0', '--oss-port', '0'])
  await waitForConsoleLine(dev)
  serviceUrl = /service:\s+(\S+)/.exec(dev.stdout())?.[1] ?? ''
  issuerUrl = /dev issuer:\s+(\S+)/.exec(dev.stdout())?.[1] ?? ''
  browser = await launchChromium()
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await dev?.stop('SIGINT')
})

describe.skipIf(SKIP_BROWSER)('the web console under sts-vend dev', () => {
  it('when it starts, then it prints the console address and the page offers the dev-user picker only', async () => {
    expect(dev.stdout()).toContain(`web console:   ${serviceUrl}/`)
    const settings = await (await fetch(`${serviceUrl}/console/config.json`)).json()
    expect(settings).toEqual({
      issuer: null,
      clientId: null,
      scopes: [],
      devMode: true,
      devIssuer: issuerUrl,
    })
  })

  it.each([
    ['olivia', 'oss://examplebucket/browser/olivia/', 'ossbrowser-users', 'ossbrowser'],
    ['pat', 'oss://partnerbucket/ingest/pat/', 'partner', 'upload-only'],
  ])(
    'when %s is picked, then the page shows the grant the API gives that dev token',
    async (sub, presetPath, rule, access) => {
      const context = await newLoopbackContext(browser)
      const page = await context.newPage()
      let authorization = ''
      page.on('request', (request: Request) => {
        if (new URL(request.url()).pathname === '/v1/credentials')
          authorization = request.headers()['authorization'] ?? authorization
      })
      await page.goto(`${serviceUrl}/`)
      expect(await page.getByRole('button', { name: 'Sign in', exact: true }).isVisible()).toBe(false)
      await page.getByLabel('Dev user').selectOption(sub)
      await page.getByRole('button', { name: 'Sign in as this user' }).click()
      const grant = page.getByRole('region', { name: 'Your grant' })
      await expect.poll(() => grant.isVisible(), { timeout: STEP_TIMEOUT_MS }).toBe(true)

      const res = await fetch(`${serviceUrl}/v1/credentials?format=ossbrowser`, {
        headers: { Authorization: authorization },
      })
      const api = (await res.json()) as Record<string, string>
      expect(api).toMatchObject({ presetPath, rule, access })
      expect(await page.locator('[data-value="presetPath"]').textContent()).toBe(presetPath)
      expect(await page.locator('[data-value="accessKeyId"]').textContent()).toBe(api['accessKeyId'])
      expect(await page.locator('[data-value="securityToken"]').textContent()).toBe(api['securityToken'])
      expect(await page.locator('.summary').textContent()).toContain(access)
      expect(await seriousViolations(page)).toEqual([])
      await screenshot(page, `console-dev-${sub}`)

      await page.getByRole('button', { name: 'Sign out' }).click()
      expect(await page.content()).not.toContain(api['accessKeyId'])
      expect(await page.getByLabel('Dev user').isVisible()).toBe(true)
      await context.close()
    },
    60_000,
  )

  it('when an access-point grant runs out, then it is labelled as one and the countdown ends in a refresh prompt', async () => {
    const context = await newLoopbackContext(browser)
    const page = await context.newPage()
    const expiration = new Date(Date.now() + 3000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    await page.route('**/v1/credentials?*', async (route) => {
      const real = (await (await route.fetch()).json()) as Record<string, unknown>
      await route.fulfill({
        json: { ...real, accessPoint: 'ap-01', bucket: 'ap-01-ossalias', expiration },
        headers: { 'Cache-Control': 'no-store' },
      })
    })
    await page.goto(`${serviceUrl}/`)
    await page.getByRole('button', { name: 'Sign in as this user' }).click()
    const summary = page.locator('.summary')
    await expect.poll(() => summary.textContent(), { timeout: STEP_TIMEOUT_MS }).toContain('Access point')
    expect(await summary.textContent()).toContain('ap-01 (alias ap-01-ossalias)')
    await expect
      .poll(() => page.locator('#countdown').textContent(), { timeout: STEP_TIMEOUT_MS })
      .toBe('(expired)')
    // A grant that is already out when it is first drawn (a loaded machine) shows "(expired)" at once and
    // the notice on the next one-second tick: poll for the notice too.
    await expect
      .poll(() => page.locator('#notice-text').textContent(), { timeout: STEP_TIMEOUT_MS })
      .toBe('These credentials have expired. Press Refresh to get new ones.')
    await context.close()
  })

  it('when the picker is used with the keyboard only, then it signs in and focus lands on the grant', async () => {
    const context = await newLoopbackContext(browser)
    const page = await context.newPage()
    await page.goto(`${serviceUrl}/`)
    // The dev form is shown by the page's script once it has loaded: focus what a user could reach.
    const picker = page.getByLabel('Dev user')
    await picker.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS })
    await picker.focus()
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign in as this user')
    await page.keyboard.press('Enter')
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.id), { timeout: STEP_TIMEOUT_MS })
      .toBe('grant-title')
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      'Copy AccessKeyId',
    )
    await context.close()
  })
})
