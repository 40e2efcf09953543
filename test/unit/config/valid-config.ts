// A minimal valid config as a plain object, fresh on every call, for tests that break one thing at a time.
import { bareAppUsers, corpIssuer } from '../../fixtures/rules.ts'

export type RawConfig = Record<string, unknown> & {
  issuers: Record<string, unknown>[]
  rules: (Record<string, unknown> & { oss: Record<string, unknown> })[]
}

/** The `${sub}` template variable of sts-vend configs (not a JavaScript placeholder). */
export const SUB = '${sub}'

/** One issuer (`corp`) and one rule (`app-users`); every other key is left to its default. */
export function validConfig(): RawConfig {
  return {
    issuers: [
      corpIssuer(
        { issuer: 'https://id.example.com/', jwksUri: 'https://id.example.com/.well-known/jwks.json' },
        // sts-vend-console: the console's client id, which the console section needs as an audience.
        { audiences: ['sts-vend', 'sts-vend-console'], algorithms: ['RS256', 'ES256'] },
      ),
    ],
    rules: [bareAppUsers() as RawConfig['rules'][number]],
  }
}

/** The same config as YAML text, for tests of the text path (duplicate keys, five mistakes). */
export const VALID_YAML = `issuers:
  - id: corp
    issuer: https://id.example.com/
    audiences: [sts-vend, sts-vend-console]
    jwksUri: https://id.example.com/.well-known/jwks.json
    algorithms: [RS256, ES256]
rules:
  - id: app-users
    issuer: corp
    roleArn: acs:ram::1234567890123456:role/oss-app-user
    oss:
      bucket: examplebucket
      region: cn-hangzhou
      prefix: "users/\${sub}/"
      access: read-write
`
