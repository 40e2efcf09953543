// `sts-vend doctor`: checks the live Alibaba set-up behind each rule with the real SDK, one line per problem with its fix.
import { parseArgs } from 'node:util'
import { type Config, compileRules, loadConfigFile } from '../config/index.ts'
import { AppError, isRootIdentityType, UpstreamError } from '../errors.ts'
import { createLogger } from '../logger.ts'
import { type CompiledRule, POLICY_MAX_LENGTH } from '../policies/index.ts'
import { createAlibabaStsClient } from '../sts/index.ts'
import type { StsClient } from '../types.ts'
import { type CliIo, type Command, EXIT, UsageError } from './command.ts'

const HELP = `Usage: sts-vend doctor --config FILE

Checks the live Alibaba Cloud set-up the config relies on, with the real STS SDK and the service's own
identity (the standard credential chain, as serve uses: ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, RRSA, ECS
RAM role, …):

  - the identity's type (GetCallerIdentity): a root account is a problem (ROOT_IDENTITY);
  - for each rule, that its role can be assumed with the rule's ExternalId (ROLE_NOT_ASSUMABLE,
    ROLE_NOT_FOUND); an ExternalId with a \${…} variable can't be rendered without a caller, so that
    check is skipped for it (a "note" line says so);
  - for each rule with an ExternalId, that the role refuses a wrong one (a role that accepts it has a
    trust policy without the sts:ExternalId condition: TRUST_NOT_ENFORCING_EXTERNAL_ID);
  - that the rule's worst-case session policy fits the STS limit (the load-time proof figure).

Every AssumeRole it makes asks 900 s with a session policy that allows one action on an object of a
bucket that does not exist (the narrowest policy there is), RoleSessionName and SourceIdentity
"sts-vend-doctor"; the credentials are dropped unused, and nothing secret is printed.

Prints one line per check ("ok …", "note …", or "PROBLEM <CODE> …: … Fix: …") and a summary line.

Exit codes: 0 no problem, 1 a problem found or an invalid config, 2 usage error.`

/** A policy that allows nothing useful: one read of one object in a bucket name no account can own. */
export const PROBE_POLICY = JSON.stringify({
  Version: '1',
  Statement: [
    { Effect: 'Allow', Action: 'oss:GetObject', Resource: 'acs:oss:*:*:sts-vend-doctor-none/none' },
  ],
})
const PROBE_NAME = 'sts-vend-doctor'
/** Valid ExternalId form, never a real one. */
export const WRONG_EXTERNAL_ID = 'sts-vend-doctor-wrong-external-id'

interface Report {
  ok(text: string): void
  note(text: string): void
  problem(code: string, text: string, fix: string): void
  readonly problems: number
}

function report(io: CliIo): Report {
  let problems = 0
  return {
    ok: (text) => io.out(`ok ${text}\n`),
    note: (text) => io.out(`note ${text}\n`),
    problem(code, text, fix) {
      problems += 1
      io.out(`PROBLEM ${code} ${text} Fix: ${fix}\n`)
    },
    get problems() {
      return problems
    },
  }
}

type Probe = { ok: true } | { ok: false; code: string; refused: boolean }

/** One AssumeRole with the probe policy; the outcome's STS code (UpstreamError reasons name it), never its text. */
async function probe(client: StsClient, roleArn: string, externalId: string | null): Promise<Probe> {
  try {
    await client.assumeRole({
      roleArn,
      roleSessionName: PROBE_NAME,
      policy: PROBE_POLICY,
      durationSeconds: 900,
      sourceIdentity: PROBE_NAME,
      ...(externalId === null ? {} : { externalId }),
    })
    return { ok: true }
  } catch (err) {
    const reason = err instanceof AppError ? (err.reason ?? '') : ''
    const code = /STS refused AssumeRole: ([A-Za-z0-9._-]+)/.exec(reason)?.[1] ?? (err as AppError).code
    return { ok: false, code: String(code ?? 'unknown'), refused: err instanceof UpstreamError }
  }
}

async function checkIdentity(client: StsClient, out: Report): Promise<boolean> {
  try {
    const identity = await client.getCallerIdentity()
    if (isRootIdentityType(identity.identityType)) {
      out.problem(
        'ROOT_IDENTITY',
        `the service identity ${identity.arn} is a root account: Alibaba refuses AssumeRole for it, and serve refuses to start.`,
        'use a RAM user allowed sts:AssumeRole (e.g. AliyunSTSAssumeRoleAccess), RRSA on ACK, or an ECS RAM role; disable the root AccessKey.',
      )
      return false
    }
    out.ok(`identity: ${identity.arn} (${identity.identityType})`)
    return true
  } catch (err) {
    const reason = err instanceof AppError ? (err.reason ?? err.code) : 'unknown error'
    out.problem(
      'IDENTITY_UNRESOLVED',
      `STS did not say who the service identity is (${reason}).`,
      'check sts.endpoint/sts.protocol and the credential chain (ALIBABA_CLOUD_* variables, RRSA token file, ECS RAM role).',
    )
    return false
  }
}

function explainRefusal(rule: CompiledRule, result: Probe & { ok: false }, out: Report): void {
  const arn = rule.config.roleArn
  if (result.code === 'EntityNotExist.Role') {
    out.problem(
      'ROLE_NOT_FOUND',
      `rule ${rule.id}: role ${arn} does not exist.`,
      'create the role or correct roleArn.',
    )
  } else if (!result.refused) {
    out.problem(
      'STS_UNAVAILABLE',
      `rule ${rule.id}: STS did not answer AssumeRole for ${arn} (${result.code}).`,
      'run doctor again; check sts.endpoint and the network.',
    )
  } else {
    out.problem(
      'ROLE_NOT_ASSUMABLE',
      `rule ${rule.id}: STS refused AssumeRole for ${arn}${rule.config.externalId ? ' with the rule’s ExternalId' : ''} (${result.code}).`,
      `allow sts:AssumeRole on ${arn} in the service identity's policy, name the identity (or its account's root) in the role's trust policy${rule.config.externalId ? ', and make its sts:ExternalId condition equal the rule’s externalId' : ''}.`,
    )
  }
}

async function checkRule(rule: CompiledRule, client: StsClient, out: Report): Promise<void> {
  const { roleArn, externalId } = rule.config
  const templated = externalId?.includes('${') === true
  if (templated) {
    out.note(
      `rule ${rule.id}: its ExternalId is a template, rendered per caller; assuming with it can't be checked here.`,
    )
  } else {
    const right = await probe(client, roleArn, externalId)
    if (right.ok)
      out.ok(`rule ${rule.id}: ${roleArn} can be assumed${externalId ? ' with its ExternalId' : ''}.`)
    else explainRefusal(rule, right, out)
  }
  if (externalId !== null) {
    const wrong = await probe(client, roleArn, WRONG_EXTERNAL_ID)
    if (wrong.ok) {
      out.problem(
        'TRUST_NOT_ENFORCING_EXTERNAL_ID',
        `rule ${rule.id}: ${roleArn} accepted a wrong ExternalId, so its trust policy does not require the rule's.`,
        `add "Condition": {"StringEquals": {"sts:ExternalId": "<the rule's externalId>"}} to the trust policy statement naming this service.`,
      )
    } else if (wrong.refused) out.ok(`rule ${rule.id}: a wrong ExternalId is refused.`)
    else explainRefusal(rule, wrong, out)
  }
  const fits = rule.worstCaseLength <= POLICY_MAX_LENGTH
  if (fits)
    out.ok(
      `rule ${rule.id}: worst-case session policy ${rule.worstCaseLength}/${POLICY_MAX_LENGTH} characters.`,
    )
  else
    out.problem(
      'POLICY_TOO_LONG',
      `rule ${rule.id}: worst-case session policy ${rule.worstCaseLength}/${POLICY_MAX_LENGTH} characters.`,
      'shorten the prefix, narrow the access, or set a stricter pattern.',
    )
}

/** Runs every check against `config`; `client` defaults to the real SDK with the standard credential chain. */
export async function runDoctor(config: Config, io: CliIo, client?: StsClient): Promise<number> {
  const sts = client ?? createAlibabaStsClient({ sts: config.sts, logger: createLogger({ level: 'silent' }) })
  const out = report(io)
  if (await checkIdentity(sts, out)) {
    for (const rule of compileRules(config)) await checkRule(rule, sts, out)
  }
  io.out(out.problems === 0 ? 'doctor: no problem found\n' : `doctor: ${out.problems} problem(s)\n`)
  return out.problems === 0 ? EXIT.ok : EXIT.invalid
}

export const doctorCommand: Command = {
  summary: 'check the live Alibaba set-up (identity, trust, ExternalId) behind every rule',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' } },
      allowPositionals: true,
      strict: true,
    })
    const path = values.config ?? io.env['STS_VEND_CONFIG']
    if (!path || positionals.length > 0) throw new UsageError('doctor needs --config FILE')
    return runDoctor(loadConfigFile(path), io)
  },
}
