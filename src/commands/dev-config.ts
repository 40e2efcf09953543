// The bundled config of `sts-vend dev`: three rules against the emulator's default accounts and roles.
import { type Config, loadConfig } from '../config/index.ts'
import { DEFAULT_ROLE_ARNS, PARTNER_EXTERNAL_ID } from '../emulator/default-config.ts'

export interface DevEndpoints {
  host: string
  port: number
  issuer: string
  jwksUri: string
  audience: string
  /** The emulator's `host:port`. */
  stsEndpoint: string
}

/**
 * - `ossbrowser-users` (tokens with groups containing "ossbrowser"): the ossbrowser preset on browser/<sub>/;
 * - `partner` (claim partner = "acme"): a role in the second account, assumed with its ExternalId;
 * - `app-users` (every other dev user): read-write on users/<sub>/ in examplebucket.
 *
 * None is `selectable`: `app-users` has no conditions, so a partner or ossbrowser user could
 * otherwise name it (`rule=app-users`) and skip the rule ordered first to restrict them.
 */
export function devConfig(e: DevEndpoints): Config {
  return loadConfig({
    // Dev mode keeps /metrics open on its loopback port; production configs must opt in (design §14).
    server: { host: e.host, port: e.port, simulate: true, metrics: { unauthenticated: true } },
    sts: { endpoint: e.stsEndpoint, protocol: 'http', region: 'cn-hangzhou' },
    limits: { store: 'memory' },
    issuers: [
      {
        id: 'dev',
        issuer: e.issuer,
        audiences: [e.audience],
        jwksUri: e.jwksUri,
        algorithms: ['ES256', 'RS256'],
      },
    ],
    rules: [
      {
        id: 'ossbrowser-users',
        issuer: 'dev',
        when: { groups: { contains: 'ossbrowser' } },
        roleArn: DEFAULT_ROLE_ARNS.browser,
        sessionName: 'ob-${sub}',
        oss: {
          bucket: 'examplebucket',
          region: 'cn-hangzhou',
          prefix: 'browser/${sub}/',
          access: 'ossbrowser',
        },
        durationSeconds: { default: 3600, max: 3600 },
      },
      {
        id: 'partner',
        issuer: 'dev',
        when: { partner: { equals: 'acme' } },
        roleArn: DEFAULT_ROLE_ARNS.partner,
        externalId: PARTNER_EXTERNAL_ID,
        sessionName: 'partner-${sub}',
        oss: {
          bucket: 'partnerbucket',
          region: 'cn-hangzhou',
          prefix: 'ingest/${sub}/',
          access: 'upload-only',
        },
        durationSeconds: { default: 900, max: 3600 },
      },
      {
        id: 'app-users',
        issuer: 'dev',
        // The catch-all: never selectable by name (design §14), whatever the caller matches first.
        selectable: false,
        roleArn: DEFAULT_ROLE_ARNS.appUser,
        sessionName: 'app-${sub}',
        oss: {
          bucket: 'examplebucket',
          region: 'cn-hangzhou',
          prefix: 'users/${sub}/',
          access: 'read-write',
        },
        durationSeconds: { default: 3600, max: 3600 },
      },
    ],
  })
}
