// The emulator's YAML config (design §10, §14): accounts with root keys, RAM users and roles with trust policies, buckets, access points, throttle, faults.
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { ConfigError, type ConfigProblem, formatPath, parseConfigText } from '../config/index.ts'
import { faultSchema } from './faults.ts'
import { isPolicyDocument } from './policy-grammar.ts'
import { isTrustPolicy, shorthandTrustPolicy } from './ram.ts'

const accountId = z.string().regex(/^\d{16}$/, 'must be a 16-digit account id')
const policyDocument = z
  .record(z.string(), z.unknown())
  .refine((doc) => isPolicyDocument(doc), 'must be a RAM policy {Version: "1", Statement: [...]}')
const resourcePolicyDocument = z
  .record(z.string(), z.unknown())
  .refine(
    (doc) => isPolicyDocument(doc, { resource: true }),
    'must be a resource policy {Version: "1", Statement: [...]} whose statements name a Principal',
  )

const accessKeySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9]{8,64}$/, 'must be 8-64 letters and digits'),
  secret: z.string().min(8),
  active: z.boolean().default(true),
})

const trustPolicyDocument = z
  .record(z.string(), z.unknown())
  .refine(
    (doc) => isTrustPolicy(doc),
    'must be a RAM trust policy {Version: "1", Statement: [{Effect, Action: "sts:AssumeRole", Principal: {RAM | Service | Federated: [...]}, Condition?}]}',
  )

// RAM user names: 1-64 of letters, digits and . @ - _ (RAM CreateUser).
const userSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9.@_-]{1,64}$/, 'must be a RAM user name (1-64 of A-Z a-z 0-9 . @ - _)'),
  accessKeys: z.array(accessKeySchema).default([]),
  // The user's permission policy; null: none attached, so nothing is allowed (not even sts:AssumeRole).
  policy: policyDocument.nullable().default(null),
})

const roleSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9.-]{1,64}$/, 'must be a RAM role name (1-64 of A-Z a-z 0-9 . -)'),
    // RAM CreateRole: MaxSessionDuration 3600..43200, default 3600.
    maxSessionDurationSeconds: z.number().int().min(3600).max(43200).default(3600),
    // Shorthand for a trust policy naming `acs:ram::<account>:root` for each account, with a
    // `StringEquals sts:ExternalId` condition when externalId is set.
    trust: z
      .strictObject({
        accounts: z.array(accountId).min(1, 'name at least one trusted account'),
        externalId: z
          .string()
          .regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2-1224 of letters, digits and _+=,.@:/-')
          .nullable()
          .default(null),
      })
      .optional(),
    // The role's trust policy exactly as the RAM console shows it.
    trustPolicy: trustPolicyDocument.optional(),
    policy: policyDocument.default({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    }),
  })
  .refine((role) => (role.trust === undefined) !== (role.trustPolicy === undefined), {
    message: 'give exactly one of trust (shorthand) and trustPolicy',
    path: ['trustPolicy'],
  })
  .transform(({ trust, trustPolicy, ...role }) => ({
    ...role,
    trustPolicy: (trustPolicy ??
      (trust ? shorthandTrustPolicy(trust.accounts, trust.externalId) : {})) as Record<string, unknown>,
  }))

const accountSchema = z.strictObject({
  id: accountId,
  // The account's own (root) AccessKeys: they can call GetCallerIdentity, never assume a role.
  accessKeys: z.array(accessKeySchema).default([]),
  users: z.array(userSchema).default([]),
  roles: z.array(roleSchema).default([]),
})

const bucketSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a bucket name'),
  account: accountId,
  region: z.string().regex(/^[a-z]{2,}-[a-z0-9-]+$/, 'must be a region id like cn-hangzhou'),
  policy: resourcePolicyDocument.nullable().default(null),
  // Which OSS signatures the bucket accepts: new buckets (from 2025-09-01) take V4 only; [v1, v4] models an older one.
  signatureVersions: z
    .array(z.enum(['v1', 'v4']))
    .min(1, 'name at least one signature version')
    .default(['v4']),
})

const accessPointSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{1,18}[a-z0-9]$/, 'must be an access point name'),
  alias: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be an access point alias'),
  bucket: z.string().min(1),
  networkOrigin: z.enum(['internet', 'vpc']).default('internet'),
  policy: resourcePolicyDocument.nullable().default(null),
})

export const emulatorConfigSchema = z.strictObject({
  accounts: z.array(accountSchema).min(1, 'at least one account is required'),
  buckets: z.array(bucketSchema).default([]),
  accessPoints: z.array(accessPointSchema).default([]),
  // Alibaba's AssumeRole quota is 100/s per account (reference §3).
  throttle: z.strictObject({ perSecond: z.number().int().min(1).default(100) }).default({ perSecond: 100 }),
  faults: z.array(faultSchema).default([]),
})

export type EmulatorConfigInput = z.input<typeof emulatorConfigSchema>
export type EmulatorConfig = z.output<typeof emulatorConfigSchema>
export type EmulatorAccount = EmulatorConfig['accounts'][number]
export type EmulatorRole = EmulatorAccount['roles'][number]
export type EmulatorUser = EmulatorAccount['users'][number]
export type EmulatorAccessKey = EmulatorAccount['accessKeys'][number]

function crossProblems(config: EmulatorConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const accounts = new Map<string, number>()
  const keys = new Map<string, string>()
  config.accounts.forEach((account, i) => {
    const first = accounts.get(account.id)
    if (first !== undefined)
      problems.push({ path: `accounts[${i}].id`, message: `duplicate account (also accounts[${first}])` })
    accounts.set(account.id, i)
    const checkKey = (key: EmulatorAccessKey, where: string) => {
      const seen = keys.get(key.id)
      if (seen) problems.push({ path: where, message: `duplicate AccessKey id (also ${seen})` })
      else keys.set(key.id, where)
    }
    account.accessKeys.forEach((key, k) => {
      checkKey(key, `accounts[${i}].accessKeys[${k}].id`)
    })
    const users = new Set<string>()
    account.users.forEach((user, u) => {
      if (users.has(user.name.toLowerCase()))
        problems.push({ path: `accounts[${i}].users[${u}].name`, message: `duplicate user "${user.name}"` })
      users.add(user.name.toLowerCase())
      user.accessKeys.forEach((key, k) => {
        checkKey(key, `accounts[${i}].users[${u}].accessKeys[${k}].id`)
      })
    })
    const roles = new Set<string>()
    account.roles.forEach((role, r) => {
      const name = role.name.toLowerCase()
      if (roles.has(name))
        problems.push({ path: `accounts[${i}].roles[${r}].name`, message: `duplicate role "${role.name}"` })
      roles.add(name)
    })
  })
  const buckets = new Set<string>()
  config.buckets.forEach((bucket, i) => {
    if (buckets.has(bucket.name))
      problems.push({ path: `buckets[${i}].name`, message: `duplicate bucket "${bucket.name}"` })
    buckets.add(bucket.name)
    if (!accounts.has(bucket.account))
      problems.push({ path: `buckets[${i}].account`, message: `unknown account "${bucket.account}"` })
  })
  config.accessPoints.forEach((ap, i) => {
    if (!buckets.has(ap.bucket))
      problems.push({ path: `accessPoints[${i}].bucket`, message: `unknown bucket "${ap.bucket}"` })
  })
  return problems
}

/**
 * Validates an emulator config given as a plain object (YAML already parsed). Throws ConfigError
 * (`ERR_CONFIG_INVALID`) listing every problem with its path.
 */
export function parseEmulatorConfig(input: unknown): EmulatorConfig {
  const result = emulatorConfigSchema.safeParse(input)
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        path: formatPath(issue.path),
        message:
          issue.code === 'unrecognized_keys' ? `unknown key(s): ${issue.keys.join(', ')}` : issue.message,
      })),
    )
  }
  const problems = crossProblems(result.data)
  if (problems.length > 0) throw new ConfigError(problems)
  return result.data
}

/** Parses YAML text and validates it. Throws ConfigError on a YAML syntax error or an invalid config. */
export function parseEmulatorConfigText(text: string): EmulatorConfig {
  const parsed = parseConfigText(text)
  if (parsed.problems.length > 0) throw new ConfigError(parsed.problems)
  return parseEmulatorConfig(parsed.value)
}

/** Reads and validates an emulator config file. Throws ConfigError, also when the file cannot be read. */
export function loadEmulatorConfigFile(path: string): EmulatorConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError([
      { path: '', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` },
    ])
  }
  return parseEmulatorConfigText(text)
}

/**
 * The account owning `accessKeyId`, with the key and, for a RAM user's key, the user (null for the
 * account's own root key); undefined when no account has it.
 */
export function findAccessKey(
  config: EmulatorConfig,
  accessKeyId: string,
): { account: EmulatorAccount; key: EmulatorAccessKey; user: EmulatorUser | null } | undefined {
  for (const account of config.accounts) {
    const key = account.accessKeys.find((k) => k.id === accessKeyId)
    if (key) return { account, key, user: null }
    for (const user of account.users) {
      const userKey = user.accessKeys.find((k) => k.id === accessKeyId)
      if (userKey) return { account, key: userKey, user }
    }
  }
  return undefined
}

/** The role `name` of account `accountId` (RAM role names are case-insensitive), or undefined. */
export function findRole(config: EmulatorConfig, accountId: string, name: string): EmulatorRole | undefined {
  const account = config.accounts.find((a) => a.id === accountId)
  return account?.roles.find((r) => r.name.toLowerCase() === name.toLowerCase())
}
