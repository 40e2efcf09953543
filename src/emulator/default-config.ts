// The bundled emulator config: the accounts, keys and roles the dev config and the tests use.
import type { EmulatorConfigInput } from './config.ts'

/** The service's own account. Its key is what `ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET` hold in dev mode. */
export const DEV_ACCOUNT_ID = '1000000000000001'
/** A resource owner's account whose role trusts DEV_ACCOUNT_ID with an ExternalId (cross-account broker). */
export const PARTNER_ACCOUNT_ID = '1000000000000002'
export const DEV_ACCESS_KEY = { id: 'LTAIexampleKeyId01', secret: 'exampleSecret01' } as const
export const PARTNER_ACCESS_KEY = { id: 'LTAIexampleKeyId02', secret: 'exampleSecret02' } as const
export const PARTNER_EXTERNAL_ID = 'sts-vend-partner-01'

const bucketObjects = (bucket: string) => [`acs:oss:*:*:${bucket}`, `acs:oss:*:*:${bucket}/*`]

/**
 * Account 1000000000000001 with the service key and the roles `oss-app-user` (up to 1 h) and
 * `oss-browser` (up to 12 h, ossbrowser allows 900-43200 s), bucket `examplebucket` and access point
 * `ap-01`; account 1000000000000002 with role `partner-oss-access`, which trusts account 1 only with
 * ExternalId `sts-vend-partner-01`, and bucket `partnerbucket`.
 */
export const DEFAULT_EMULATOR_CONFIG: EmulatorConfigInput = {
  accounts: [
    {
      id: DEV_ACCOUNT_ID,
      accessKeys: [{ ...DEV_ACCESS_KEY }],
      roles: [
        {
          name: 'oss-app-user',
          maxSessionDurationSeconds: 3600,
          trust: { accounts: [DEV_ACCOUNT_ID], externalId: null },
          policy: {
            Version: '1',
            Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: bucketObjects('examplebucket') }],
          },
        },
        {
          name: 'oss-browser',
          maxSessionDurationSeconds: 43200,
          trust: { accounts: [DEV_ACCOUNT_ID], externalId: null },
          policy: {
            Version: '1',
            Statement: [
              { Effect: 'Allow', Action: 'oss:*', Resource: bucketObjects('examplebucket') },
              {
                Effect: 'Allow',
                Action: 'oss:*',
                Resource: [
                  `acs:oss:cn-hangzhou:${DEV_ACCOUNT_ID}:accesspoint/ap-01`,
                  `acs:oss:cn-hangzhou:${DEV_ACCOUNT_ID}:accesspoint/ap-01/object/*`,
                ],
              },
            ],
          },
        },
      ],
    },
    {
      id: PARTNER_ACCOUNT_ID,
      accessKeys: [{ ...PARTNER_ACCESS_KEY }],
      roles: [
        {
          name: 'partner-oss-access',
          maxSessionDurationSeconds: 3600,
          trust: { accounts: [DEV_ACCOUNT_ID], externalId: PARTNER_EXTERNAL_ID },
          policy: {
            Version: '1',
            Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: bucketObjects('partnerbucket') }],
          },
        },
      ],
    },
  ],
  buckets: [
    { name: 'examplebucket', account: DEV_ACCOUNT_ID, region: 'cn-hangzhou', policy: null },
    { name: 'partnerbucket', account: PARTNER_ACCOUNT_ID, region: 'cn-hangzhou', policy: null },
  ],
  accessPoints: [
    {
      name: 'ap-01',
      alias: 'ap-01-ossalias',
      bucket: 'examplebucket',
      networkOrigin: 'internet',
      policy: {
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'oss:*',
            Principal: [DEV_ACCOUNT_ID],
            Resource: [
              `acs:oss:cn-hangzhou:${DEV_ACCOUNT_ID}:accesspoint/ap-01`,
              `acs:oss:cn-hangzhou:${DEV_ACCOUNT_ID}:accesspoint/ap-01/object/*`,
            ],
          },
        ],
      },
    },
  ],
  throttle: { perSecond: 100 },
  faults: [],
}

/** Role ARNs of the default config. */
export const DEFAULT_ROLE_ARNS = {
  appUser: `acs:ram::${DEV_ACCOUNT_ID}:role/oss-app-user`,
  browser: `acs:ram::${DEV_ACCOUNT_ID}:role/oss-browser`,
  partner: `acs:ram::${PARTNER_ACCOUNT_ID}:role/partner-oss-access`,
} as const
