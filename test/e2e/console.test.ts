// The web console in Debian's Chromium: sign-in at a real oidc-provider (PKCE), the grant, copy, 403, errors, CSP, axe.
import type { Browser, BrowserContext, Page, Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.ts'
import {
  DEFAULT_EMULATOR_CONFIG,
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
} from '../../src/emulator/default-config.ts'
import { type Emulator, startEmulator } from '../../src/emulator/index.ts'
import { createCapturingLogger } from '../../src/logger.ts'
import { type RunningServer, startServer } from '../../src/server.ts'
import { generateTestKey } from '../fixtures/issuer.ts'
import { type OidcProviderFixture, startOidcProvider } from '../fixtures/oidc-provider.ts'
import { freePort } from '../fixtures/processes.ts'
import { corpIssuer } from '../fixtures/rules.ts'
import {
  launchChromium,
  newLoopbackContext,
  SKIP_BROWSER,
  STEP_TIMEOUT_MS,
  screenshot,
  seriousViolations,
} from './console-browser.ts'

const CLIENT_ID = 'sts-vend-console'
const ENV_KEYS = [
  'ALIBABA_CLOUD_ACCESS_KEY_ID',
  'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  'ALIBABA_CLOUD_SECURITY_TOKEN',
  'ALIBABA_CLOUD_ECS_METADATA_DISABLED',
] as const

let op: OidcProviderFixture
let emulator: Emulator
let service: RunningServer
let browser: Browser
const savedEnv: Record<string, string | undefined> = {}
const log = createCapturingLogger('info')

/** Each ossbrowser field's copy button and what it must copy, from the API's own answer. */
const COPIED: [string, (b: Record<string, string>) => string][] = [
  ['accessKeyId', (b) => b['accessKeyId'] as string],
  ['accessKeySecret', (b) => b['accessKeySecret'] as string],
  ['securityToken', (b) => b['securityToken'] as string],
  ['presetPath', (b) => b['presetPath'] as string],
  ['region', (b) => `oss-${b['region']}`],
  ['endpoint', (b) => `https://${b['endpoint']}`],
  ['authorizationCode', (b) => b['authorizationCode'] as string],
]

beforeAll(async () => {
  if (SKIP_BROWSER) return
  const key = await generateTestKey('RS256', 'console-k1')
  const port = await freePort()
  op = await startOidcProvider({
    keys: [key.privateJwk],
    publicClient: {
      clientId: CLIENT_ID,
      redirectUris: [`http://127.0.0.1:${port}/callback`],
      accounts: {
        alice: { name: 'Alice Example', groups: ['ossbrowser'] },
        mallory: { name: 'Mallory Example', groups: ['finance'] },
      },
    },
  })
  emulator = await startEmulator({ config: DEFAULT_EMULATOR_CONFIG, host: '127.0.0.1', port: 0 })
  for (const name of ENV_KEYS) savedEnv[name] = process.env[name]
  process.env['ALIBABA_CLOUD_ACCESS_KEY_ID'] = DEV_ACCESS_KEY.id
  process.env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'] = DEV_ACCESS_KEY.secret
  process.env['ALIBABA_CLOUD_ECS_METADATA_DISABLED'] = 'true'
  delete process.env['ALIBABA_CLOUD_SECURITY_TOKEN']
  const config = loadConfig({
    server: { host: '127.0.0.1', port },
    sts: { endpoint: emulator.endpoint, protocol: 'http', region: 'cn-hangzhou' },
    issuers: [corpIssuer({ issuer: op.issuer, jwksUri: `${op.issuer}/jwks` }, { audiences: [CLIENT_ID] })],
    console: { issuer: 'corp', clientId: CLIENT_ID, scopes: ['openid', 'profile', 'groups'] },
    rules: [
      {
        id: 'ossbrowser-users',
        issuer: 'corp',
        when: { groups: { contains: 'ossbrowser' } },
        roleArn: DEFAULT_ROLE_ARNS.browser,
        sessionName: 'ob-${sub}',
        oss: {
          bucket: 'examplebucket',
          region: 'cn-hangzhou',
          prefix: 'browser/${sub}/',
          access: 'ossbrowser',
        },
      },
      {
        id: 'shared-read',
        issuer: 'corp',
        when: { groups: { contains: 'ossbrowser' } },
        roleArn: DEFAULT_ROLE_ARNS.browser,
        sessionName: 'sr-${sub}',
        selectable: true,
        oss: { bucket: 'examplebucket', region: 'cn-hangzhou', prefix: 'shared/${sub}/', access: 'read' },
      },
    ],
  })
  service = await startServer({ config, logger: log.logger })
  browser = await launchChromium()
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await service?.close()
  await emulator?.close()
  await op?.close()
  for (const name of ENV_KEYS) {
    if (savedEnv[name] === undefined) delete process.env[name]
    else process.env[name] = savedEnv[name]
  }
})

/** Signs `login` in through the console and the provider's dev login and consent pages; returns the page. */
async function signIn(context: BrowserContext, login: string): Promise<{ page: Page; bearer: () => string }> {
  const page = await context.newPage()
  let authorization = ''
  page.on('request', (request: Request) => {
    if (new URL(request.url()).pathname === '/v1/credentials')
      authorization = request.headers()['authorization'] ?? authorization
  })
  await page.goto(`${service.url}/`)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(`${op.issuer}/interaction/**`)
  await page.locator('input[name="login"]').fill(login)
  await page.locator('input[name="password"]').fill('any-password')
  await page.locator('button[type="submit"]').click()
  // The consent page (a new interaction) follows; the click waits for its button.
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.waitForURL(`${service.url}/`)
  return { page, bearer: () => authorization.replace(/^Bearer /, '') }
}

async function apiGrant(token: string): Promise<Record<string, string>> {
  const res = await fetch(`${service.url}/v1/credentials?format=ossbrowser`, {
    headers: { Authorization: `Bearer ${token}` },
  })
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, string>
}

describe.skipIf(SKIP_BROWSER)('the web console in Chromium', () => {
  it('when alice signs in at the issuer, then the page shows her grant and each copy button copies what the API returns for her token', async () => {
    const context = await newLoopbackContext(browser)
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: service.url })
    const { page, bearer } = await signIn(context, 'alice')
    const grant = page.getByRole('region', { name: 'Your grant' })
    await expect.poll(() => grant.isVisible(), { timeout: STEP_TIMEOUT_MS }).toBe(true)
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.id), { timeout: STEP_TIMEOUT_MS })
      .toBe('grant-title')
    expect(await page.locator('#who').textContent()).toBe('Alice Example')

    const api = await apiGrant(bearer())
    expect(api['presetPath']).toBe('oss://examplebucket/browser/alice/')
    const summary = await page.locator('.summary').textContent()
    for (const text of ['Bucket', 'examplebucket', 'cn-hangzhou', 'browser/alice/', 'ossbrowser'])
      expect(summary).toContain(text)
    expect(await page.locator('#expiration').getAttribute('datetime')).toBe(api['expiration'])
    const countdown = await page.locator('#countdown').textContent()
    expect(countdown).toMatch(/^\(\d+ (h|min) \d+ (min|s) left\)$/)
    await expect
      .poll(() => page.locator('#countdown').textContent(), { timeout: STEP_TIMEOUT_MS })
      .not.toBe(countdown)

    // Masked until revealed: the secret is nowhere in the document.
    const masked = await page.content()
    expect(masked).not.toContain(api['accessKeySecret'])
    expect(masked).not.toContain(api['authorizationCode'])
    const secret = page.locator('[data-value="accessKeySecret"]')
    expect(await secret.textContent()).toContain('hidden')
    await screenshot(page, 'console-grant')

    for (const [field, expected] of COPIED) {
      await page.locator(`button[data-copy="${field}"]`).click()
      await expect
        .poll(() => page.evaluate(() => navigator.clipboard.readText()), { timeout: STEP_TIMEOUT_MS })
        .toBe(expected(api))
      expect(await page.locator('#status').textContent()).toMatch(/copied to the clipboard\.$/)
    }
    const code = JSON.parse(Buffer.from(api['authorizationCode'] as string, 'base64').toString('utf8'))
    expect(code).toMatchObject({
      id: api['accessKeyId'],
      osspath: api['presetPath'],
      region: 'oss-cn-hangzhou',
    })

    const reveal = page.getByRole('button', { name: 'Show AccessKeySecret' })
    await reveal.click()
    expect(await secret.textContent()).toBe(api['accessKeySecret'])
    expect(await reveal.getAttribute('aria-pressed')).toBe('true')
    await reveal.click()
    expect(await secret.textContent()).not.toContain(api['accessKeySecret'])

    // Token and credentials in memory only; the code and state are gone from the address bar.
    const stored = await page.evaluate(() => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
      url: location.href,
    }))
    expect(stored).toEqual({ local: 0, session: 0, cookie: '', url: `${service.url}/` })

    expect(await seriousViolations(page)).toEqual([])

    await page.getByRole('button', { name: 'Sign out' }).click()
    expect(await grant.isVisible()).toBe(false)
    expect(await page.locator('#status').textContent()).toMatch(/^Signed out/)
    const after = await page.content()
    for (const value of [api['accessKeyId'], api['securityToken'], api['authorizationCode'], bearer()])
      expect(after).not.toContain(value)
    expect(await page.getByRole('button', { name: 'Sign in', exact: true }).isVisible()).toBe(true)
    await screenshot(page, 'console-signed-out')
    expect(log.raw.join('\n')).not.toContain(bearer())
    await context.close()
  }, 90_000)

  it('when alice signs in, then the page lists her grants in rule order and she can pick the selectable one', async () => {
    const context = await newLoopbackContext(browser)
    const { page, bearer } = await signIn(context, 'alice')
    const grants = page.getByRole('region', { name: 'What you may ask for' })
    await expect.poll(() => grants.isVisible(), { timeout: STEP_TIMEOUT_MS }).toBe(true)
    const items = grants.getByRole('listitem')
    await expect.poll(() => items.count(), { timeout: STEP_TIMEOUT_MS }).toBe(2)
    expect(await items.nth(0).textContent()).toContain('ossbrowser-users')
    await expect.poll(() => items.nth(0).textContent(), { timeout: STEP_TIMEOUT_MS }).toContain('in use')
    expect(await items.nth(1).textContent()).toContain('shared/alice/')

    await page.getByRole('button', { name: 'Use this grant: shared-read' }).click()
    await expect
      .poll(() => page.locator('[data-summary="rule"]').textContent(), { timeout: STEP_TIMEOUT_MS })
      .toBe('shared-read')
    expect(await page.locator('[data-summary="prefix"]').textContent()).toBe('shared/alice/')
    expect(await page.locator('[data-summary="access"]').textContent()).toBe('read')
    expect(await items.nth(1).textContent()).toContain('in use')
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.id), { timeout: STEP_TIMEOUT_MS })
      .toBe('grant-title')
    // What the page shows is what the API lists for the same token.
    const listed = await fetch(`${service.url}/v1/grants`, {
      headers: { Authorization: `Bearer ${bearer()}` },
    })
    const body = (await listed.json()) as { grants: { rule: string; selectable: boolean }[] }
    expect(body.grants.map((g) => [g.rule, g.selectable])).toEqual([
      ['ossbrowser-users', false],
      ['shared-read', true],
    ])
    expect(await seriousViolations(page)).toEqual([])
    await screenshot(page, 'console-grants')
    await context.close()
  }, 90_000)

  it('when a person no rule grants signs in, then the page says so and shows the request id for the admin', async () => {
    const context = await newLoopbackContext(browser)
    const response = new Promise<string>((resolve) => {
      context.on('response', (res) => {
        if (new URL(res.url()).pathname === '/v1/credentials') resolve(res.headers()['x-request-id'] ?? '')
      })
    })
    const { page } = await signIn(context, 'mallory')
    const notice = page.getByRole('alert')
    await expect.poll(() => notice.isVisible(), { timeout: STEP_TIMEOUT_MS }).toBe(true)
    expect(await notice.textContent()).toContain('No rule grants you access')
    const requestId = await response
    expect(requestId).toMatch(/^[A-Za-z0-9._-]{1,64}$/)
    expect(await page.locator('#notice-request-id').textContent()).toBe(requestId)
    expect(await page.getByRole('region', { name: 'Your grant' }).isVisible()).toBe(false)
    expect(log.lines.some((l) => l['event'] === 'credentials.denied' && l['request_id'] === requestId)).toBe(
      true,
    )
    expect(await seriousViolations(page)).toEqual([])
    await screenshot(page, 'console-403')
    await context.close()
  }, 60_000)

  it.each([
    [429, 'rate_limited', '7', /^Too many requests\. Try again in 7 s\.$/, true],
    [503, 'upstream_unavailable', '3', /^The service is temporarily unavailable\. Try again in 3 s\.$/, true],
    [401, 'invalid_token', null, /sign in again/i, false],
  ])(
    'when a refresh gets %i, then the page tells the person what to do next',
    async (status, code, retryAfter, message, staysSignedIn) => {
      const context = await newLoopbackContext(browser)
      const { page } = await signIn(context, 'alice')
      await expect
        .poll(() => page.getByRole('region', { name: 'Your grant' }).isVisible(), {
          timeout: STEP_TIMEOUT_MS,
        })
        .toBe(true)
      await page.route('**/v1/credentials?*', (route) =>
        route.fulfill({
          status,
          contentType: 'application/json',
          headers: { 'X-Request-Id': 'req-1', ...(retryAfter ? { 'Retry-After': retryAfter } : {}) },
          body: JSON.stringify({ error: code, error_description: 'x', request_id: 'req-1' }),
        }),
      )
      await page.getByRole('button', { name: 'Refresh' }).click()
      const notice = page.locator('#notice-text')
      await expect.poll(() => notice.textContent(), { timeout: STEP_TIMEOUT_MS }).toMatch(message)
      if (staysSignedIn) {
        expect(await page.getByRole('button', { name: 'Refresh' }).isDisabled()).toBe(true)
        expect(await page.getByRole('region', { name: 'Your grant' }).isVisible()).toBe(true)
      } else {
        expect(await page.getByRole('button', { name: 'Sign in', exact: true }).isVisible()).toBe(true)
        expect(await page.locator('[data-value="accessKeyId"]').textContent()).toBe('')
      }
      await screenshot(page, `console-${status}`)
      await context.close()
    },
    60_000,
  )

  it.each([
    ['/callback?code=forged&state=forged', /does not belong to a sign-in started here/],
    ['/callback?error=access_denied&state=x', /cancelled or refused \(access_denied\)/],
    [
      '/callback?error=Call%20this%20number&state=x',
      /^The sign-in was cancelled or refused\. Sign in again\.$/,
    ],
  ])(
    'when the browser arrives at %s without a sign-in started here, then nothing is redeemed and the address is cleaned',
    async (path, message) => {
      const context = await newLoopbackContext(browser)
      const page = await context.newPage()
      const tokenCalls: string[] = []
      page.on('request', (request: Request) => {
        if (request.url().startsWith(`${op.issuer}/token`)) tokenCalls.push(request.url())
      })
      await page.goto(`${service.url}${path}`)
      await expect
        .poll(() => page.locator('#notice-text').textContent(), { timeout: STEP_TIMEOUT_MS })
        .toMatch(message)
      expect(page.url()).toBe(`${service.url}/`)
      expect(tokenCalls).toEqual([])
      expect(await page.getByRole('button', { name: 'Sign in', exact: true }).isVisible()).toBe(true)
      await context.close()
    },
  )

  it('when the page is served, then every resource it loads (favicon included) answers 200, its CSP allows only its own scripts and an injected inline script does not run', async () => {
    const context = await newLoopbackContext(browser)
    const page = await context.newPage()
    const failed: string[] = []
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`)
    })
    const response = await page.goto(`${service.url}/`)
    const csp = response?.headers()['content-security-policy'] ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain(`connect-src 'self' ${op.issuer}`)
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
    await page.waitForLoadState('networkidle')
    expect(failed).toEqual([])
    const outcome = await page.evaluate(async () => {
      const violations: string[] = []
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective))
      const script = document.createElement('script')
      script.textContent = 'window.__injected = true'
      document.head.append(script)
      const inline = document.createElement('div')
      inline.setAttribute('onclick', 'window.__injected = true')
      document.body.append(inline)
      inline.click()
      await new Promise((r) => setTimeout(r, 200))
      return { injected: (window as unknown as { __injected?: boolean }).__injected, violations }
    })
    expect(outcome.injected).toBeUndefined()
    expect(outcome.violations).toEqual(expect.arrayContaining(['script-src-elem', 'script-src-attr']))
    await context.close()
  })

  it('when a page of another origin calls the service, then CORS does not let it read the answers', async () => {
    const context = await newLoopbackContext(browser)
    const page = await context.newPage()
    await page.goto(`${op.issuer}/.well-known/openid-configuration`)
    const results = await page.evaluate(async (base) => {
      const attempt = (path: string, init?: RequestInit) =>
        fetch(base + path, init).then(
          () => 'read',
          () => 'blocked',
        )
      return [
        await attempt('/console/config.json'),
        await attempt('/v1/credentials?format=ossbrowser', { headers: { Authorization: 'Bearer x' } }),
      ]
    }, service.url)
    expect(results).toEqual(['blocked', 'blocked'])
    await context.close()
  })
})
