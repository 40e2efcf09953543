// The bundled emulator config: the accounts, keys and roles the dev config and the tests use.
import type { EmulatorConfigInput } from './config.ts'

/** The service's own account. */
export const DEV_ACCOUNT_ID = '1000000000000001'
/** A resource owner's account whose role trusts DEV_ACCOUNT_ID with an ExternalId (cross-account broker). */
export const PARTNER_ACCOUNT_ID = '1000000000000002'
/**
 * The key of RAM user `sts-vend` (DEV_SERVICE_USER) in DEV_ACCOUNT_ID, allowed sts:AssumeRole: what
 * `ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET` hold in dev mode and the tests (the service's identity).
 */
export const DEV_ACCESS_KEY = { id: 'LTAIexampleKeyId01', secret: 'exampleSecret01' } as const
/** The root (account) key of DEV_ACCOUNT_ID: it can't assume roles, and sts-vend refuses to run as it. */
export const DEV_ROOT_ACCESS_KEY = { id: 'LTAIrootKey0001', secret: 'rootSecret0001' } as const
/** The key of RAM user `partner-admin` in PARTNER_ACCOUNT_ID, allowed sts:AssumeRole (trusted by no role of account 1). */
export const PARTNER_ACCESS_KEY = { id: 'LTAIexampleKeyId02', secret: 'exampleSecret02' } as const
export const PARTNER_ROOT_ACCESS_KEY = { id: 'LTAIrootKey0002', secret: 'rootSecret0002' } as const
export const PARTNER_EXTERNAL_ID = 'sts-vend-partner-01'
export const DEV_SERVICE_USER = 'sts-vend'

/** A RAM user's policy allowing sts:AssumeRole on every role (what AliyunSTSAssumeRoleAccess grants). */
export const ASSUME_ANY_ROLE_POLICY = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['acs:ram::*:role/*'] }],
}

/** A trust policy admitting every RAM identity of `accountId` (`acs:ram::<id>:root`), with an ExternalId when given. */
export function accountTrustPolicy(accountId: string, externalId: string | null = null) {
  return {
    Version: '1',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { RAM: [`acs:ram::${accountId}:root`] },
        ...(externalId === null ? {} : { Condition: { StringEquals: { 'sts:ExternalId': externalId } } }),
      },
    ],
  }
}

const bucketObjects = (bucket: string) => [`acs:oss:*:*:${bucket}`, `acs:oss:*:*:${bucket}/*`]

/**
 * Account 1000000000000001 with a root key, RAM user `sts-vend` (the service key, sts:AssumeRole allowed)
 * and the roles `oss-app-user` (up to 1 h) and `oss-browser` (up to 12 h, ossbrowser allows 900-43200 s),
 * both trusting the account's RAM identities; bucket `examplebucket` and access point `ap-01`; account
 * 1000000000000002 with a root key, RAM user `partner-admin`, role `partner-oss-access`, whose trust
 * policy admits account 1 only with ExternalId `sts-vend-partner-01`, and bucket `partnerbucket`.
 */
export const DEFAULT_EMULATOR_CONFIG: EmulatorConfigInput = {
  accounts: [
    {
      id: DEV_ACCOUNT_ID,
      accessKeys: [{ ...DEV_ROOT_ACCESS_KEY }],
      users: [
        { name: DEV_SERVICE_USER, accessKeys: [{ ...DEV_ACCESS_KEY }], policy: ASSUME_ANY_ROLE_POLICY },
      ],
      roles: [
        {
          name: 'oss-app-user',
          maxSessionDurationSeconds: 3600,
          trustPolicy: accountTrustPolicy(DEV_ACCOUNT_ID),
          policy: {
            Version: '1',
            Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: bucketObjects('examplebucket') }],
          },
        },
        {
          name: 'oss-browser',
          maxSessionDurationSeconds: 43200,
          trustPolicy: accountTrustPolicy(DEV_ACCOUNT_ID),
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
      accessKeys: [{ ...PARTNER_ROOT_ACCESS_KEY }],
      users: [
        { name: 'partner-admin', accessKeys: [{ ...PARTNER_ACCESS_KEY }], policy: ASSUME_ANY_ROLE_POLICY },
      ],
      roles: [
        {
          name: 'partner-oss-access',
          maxSessionDurationSeconds: 3600,
          trustPolicy: accountTrustPolicy(DEV_ACCOUNT_ID, PARTNER_EXTERNAL_ID),
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
