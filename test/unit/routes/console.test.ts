// The console routes on the real app: off without a `console` section, the page and its assets, settings, CSP.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config/index.ts'
import { consoleCsp, consoleSettings } from '../../../src/routes/console.ts'
import { ROOT } from '../../fixtures/processes.ts'
import { createHarness, type Harness } from '../../integration/http/harness.ts'

const WEB = join(ROOT, 'web')
const SCRIPTS = readdirSync(join(WEB, 'js')).filter((name) => name.endsWith('.js'))

function withConsole(raw: Record<string, unknown>) {
  raw['console'] = { issuer: 'corp', clientId: 'sts-vend-console', scopes: ['openid', 'profile', 'groups'] }
  const [issuer] = raw['issuers'] as { audiences: string[] }[]
  issuer!.audiences.push('sts-vend-console')
}

describe('when the config has no console section', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness()
  })
  afterAll(() => h.close())

  it.each(['/', '/callback', '/console/config.json', '/console/main.js'])(
    'when %s is asked, then it is 404 not_found',
    async (path) => {
      const res = await h.agent().get(path)
      expect(res.status).toBe(404)
      expect(res.body.error).toBe('not_found')
    },
  )
})

describe('when the config has a console section', () => {
  let h: Harness
  let csp: string
  beforeAll(async () => {
    h = await createHarness(withConsole)
    csp = consoleCsp(consoleSettings(h.config)!)
  })
  afterAll(() => h.close())

  it.each([
    ['/', 'text/html; charset=utf-8'],
    ['/callback', 'text/html; charset=utf-8'],
    ['/console/console.css', 'text/css; charset=utf-8'],
    ['/console/favicon.svg', 'image/svg+xml'],
    ['/console/config.json', 'application/json; charset=utf-8'],
    ...SCRIPTS.map((name) => [`/console/${name}`, 'text/javascript; charset=utf-8']),
  ])('when %s is asked, then it is served as %s with the console CSP and no caching', async (path, type) => {
    const res = await h.agent().get(path)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe(type)
    expect(res.headers['content-security-policy']).toBe(csp)
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['cache-control']).toBe('no-store')
  })

  it('when / and /callback are asked, then both are the page in web/index.html', async () => {
    const page = readFileSync(join(WEB, 'index.html'), 'utf8')
    expect((await h.agent().get('/')).text).toBe(page)
    expect((await h.agent().get('/callback?code=abc&state=def')).text).toBe(page)
  })

  it('when the CSP is read, then it allows only the page origin, the issuer for sign-in, and no inline code or framing', () => {
    const issuerOrigin = new URL(h.issuer.issuer).origin
    expect(csp.split('; ')).toEqual([
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      `connect-src 'self' ${issuerOrigin}`,
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ])
  })

  it('when an API route answers, then it keeps the strict API CSP', async () => {
    const res = await h.agent().get('/healthz')
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'/)
  })

  it('when config.json is asked with a forged Host, then it exposes only the settings, from the config', async () => {
    const res = await h
      .agent()
      .get('/console/config.json')
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'x.evil')
    expect(res.body).toEqual({
      issuer: h.issuer.issuer,
      clientId: 'sts-vend-console',
      scopes: ['openid', 'profile', 'groups'],
      devMode: false,
      devIssuer: null,
    })
    expect(res.text).not.toContain('evil')
  })

  it.each([
    '/index.html',
    '/console/',
    '/console/main.js/',
    '/Console/main.js',
    '/console/../src/app.ts',
    '/console/%2e%2e/package.json',
    '/console/js/main.js',
    '/console/tsconfig.json',
    '/callback/',
  ])('when %s is asked, then it is 404 (only the listed files are served)', async (path) => {
    const res = await h.agent().get(path)
    expect(res.status).toBe(404)
    expect(res.body.error).toBe('not_found')
  })

  it.each([
    ['POST', '/'],
    ['PUT', '/callback'],
    ['DELETE', '/console/main.js'],
    ['POST', '/console/config.json'],
  ])('when %s %s is sent, then it is 405 with Allow: GET', async (method, path) => {
    const res = await h.agent()[method.toLowerCase() as 'post' | 'put' | 'delete'](path)
    expect(res.status).toBe(405)
    expect(res.headers['allow']).toBe('GET')
    expect(res.body.error).toBe('method_not_allowed')
  })

  it('when HEAD / is sent, then it answers 200 with the page headers and no body', async () => {
    const res = await h.agent().head('/')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(res.text ?? '').toBe('')
  })

  it('when the page references scripts, styles and modules, then each is served and none is inline', async () => {
    const page = readFileSync(join(WEB, 'index.html'), 'utf8')
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i)
    expect(page).not.toMatch(/<style|\sstyle=|\son[a-z]+=|javascript:/i)
    const references = [...page.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string)
    for (const name of SCRIPTS) {
      const source = readFileSync(join(WEB, 'js', name), 'utf8')
      for (const m of source.matchAll(/\bfrom '\.\/([^']+)'/g)) references.push(`/console/${m[1]}`)
    }
    expect(references.length).toBeGreaterThan(SCRIPTS.length)
    for (const path of references) expect((await h.agent().get(path)).status, path).toBe(200)
  })
})

describe('consoleSettings', () => {
  const config = (withSection: boolean) =>
    loadConfig({
      issuers: [
        // Inline, not corpIssuer: this issuer finds its keys by discovery, so it has no jwksUri.
        {
          id: 'corp',
          issuer: 'https://id.example.com/',
          audiences: ['c'],
          discovery: true,
          algorithms: ['RS256'],
        },
      ],
      ...(withSection ? { console: { issuer: 'corp', clientId: 'c' } } : {}),
      rules: [
        {
          id: 'r',
          issuer: 'corp',
          roleArn: 'acs:ram::1000000000000001:role/r',
          oss: { bucket: 'examplebucket', region: 'cn-hangzhou', prefix: 'u/${sub}/', access: 'read' },
        },
      ],
    })

  it.each([
    [false, undefined, null],
    [
      true,
      undefined,
      {
        issuer: 'https://id.example.com/',
        clientId: 'c',
        scopes: ['openid', 'profile'],
        devMode: false,
        devIssuer: null,
      },
    ],
    [
      false,
      'http://127.0.0.1:8788',
      { issuer: null, clientId: null, scopes: [], devMode: true, devIssuer: 'http://127.0.0.1:8788' },
    ],
  ])(
    'when the section is %s and the dev issuer %s, then the settings are %j',
    (section, devIssuer, expected) => {
      expect(consoleSettings(config(section), devIssuer)).toEqual(expected)
    },
  )

  it('when both are set, then the CSP lets the page reach the issuer and the dev issuer, by origin', () => {
    const settings = consoleSettings(config(true), 'http://127.0.0.1:8788')!
    expect(consoleCsp(settings)).toContain("connect-src 'self' https://id.example.com http://127.0.0.1:8788;")
  })
})
