// The web console (design §11): the static page from web/ at / and /callback, its assets, its settings, its own CSP.
import { readdirSync, readFileSync } from 'node:fs'
import { type NextFunction, type Request, type Response, Router } from 'express'
import { type Config, issuerUrl } from '../config/index.ts'
import { PACKAGE_ROOT } from '../package-root.ts'

/** Where the page's files live: `web/` at the package root (from src/, tsc's dist/ and the bundle). */
export const WEB_ROOT = new URL('web/', PACKAGE_ROOT)

/** Where the issuer sends people back (RFC 6749 §3.1.2); the page builds `location.origin + this`. */
export const CALLBACK_PATH = '/callback'
export const CONFIG_PATH = '/console/config.json'

/** What the page needs to sign people in; served at /console/config.json, nothing else is exposed. */
export interface ConsoleSettings {
  /** The `issuer` URL of the `console.issuer` entry; null when only the dev-user picker is offered. */
  issuer: string | null
  /** The public client registered at that issuer (PKCE, no secret). */
  clientId: string | null
  scopes: string[]
  /** True under `sts-vend dev`: the page offers the dev-user picker. */
  devMode: boolean
  /** The dev issuer's URL (dev mode only): its `POST /dev/token` backs the picker. */
  devIssuer: string | null
}

interface Asset {
  body: Buffer
  type: string
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/**
 * The console's settings from the config and, under `sts-vend dev`, the dev issuer's URL. Null (the
 * console is off, `/` is 404) when the config has no `console` section and this is not dev mode.
 */
export function consoleSettings(config: Config, devIssuer?: string): ConsoleSettings | null {
  const section = config.console
  if (!section && devIssuer === undefined) return null
  const issuer = section ? config.issuers.find((i) => i.id === section.issuer) : undefined
  return {
    issuer: issuer ? issuerUrl(issuer) : null,
    clientId: issuer && section ? section.clientId : null,
    scopes: issuer && section ? [...section.scopes] : [],
    devMode: devIssuer !== undefined,
    devIssuer: devIssuer ?? null,
  }
}

/**
 * The console's Content-Security-Policy: scripts, styles and images from its own origin only (no inline
 * code, no CDN, no fonts from elsewhere); fetches to itself, to the issuer (discovery and the token
 * endpoint) and, in dev mode, to the dev issuer; never framed (clickjacking of the copy buttons).
 */
export function consoleCsp(settings: ConsoleSettings): string {
  const connect = new Set(["'self'"])
  for (const url of [settings.issuer, settings.devIssuer]) if (url) connect.add(new URL(url).origin)
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src ${[...connect].join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/** The page's files read once at start, by URL path: `/`, `/callback`, `/console/<file>`. */
function loadAssets(root: URL): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  const html: Asset = { body: readFileSync(new URL('index.html', root)), type: TYPES['.html'] as string }
  assets.set('/', html)
  assets.set(CALLBACK_PATH, html)
  for (const folder of ['', 'js/']) {
    for (const name of readdirSync(new URL(folder || '.', root))) {
      // Only plain file names: nothing requested ever reaches the file system.
      const ext = /^[a-z0-9-]+(\.[a-z]+)$/.exec(name)?.[1]
      if (ext !== '.css' && ext !== '.js' && ext !== '.svg') continue
      assets.set(`/console/${name}`, {
        body: readFileSync(new URL(folder + name, root)),
        type: TYPES[ext] as string,
      })
    }
  }
  return assets
}

export interface ConsoleRoutes {
  /** Every path the console answers (GET and HEAD), for the app's 404/405 table. */
  paths: string[]
  router: Router
}

/** Serves the console under `settings`, from `root` (default WEB_ROOT). Throws when index.html is missing. */
export function consoleRoutes(settings: ConsoleSettings, root: URL = WEB_ROOT): ConsoleRoutes {
  const assets = loadAssets(root)
  const csp = consoleCsp(settings)
  const config = Buffer.from(JSON.stringify(settings))
  const router = Router({ caseSensitive: true, strict: true })
  const send = (res: Response, asset: Asset) => {
    res.setHeader('Content-Security-Policy', csp)
    res.setHeader('Content-Type', asset.type)
    res.status(200).send(asset.body)
  }
  router.get(CONFIG_PATH, (_req: Request, res: Response) => {
    send(res, { body: config, type: 'application/json; charset=utf-8' })
  })
  router.get(/.*/, (req: Request, res: Response, next: NextFunction) => {
    const asset = assets.get(req.path)
    if (asset) send(res, asset)
    else next()
  })
  return { paths: [...assets.keys(), CONFIG_PATH], router }
}
