// The GetCallerIdentity action: who signed the request, in the fields Alibaba's API reference documents.
import { createHash } from 'node:crypto'
import { roleId } from './assume-role.ts'
import type { Caller } from './authenticate.ts'

/**
 * The success body (Alibaba's GetCallerIdentity reference): `UserId` only for an account or a RAM user,
 * `RoleId` only for a role session. IdentityType is `Account`, `RAMUser` or `AssumedRoleUser` (older docs
 * write `RamUser`; clients compare case-insensitively).
 */
export interface CallerIdentityBody {
  IdentityType: 'Account' | 'RAMUser' | 'AssumedRoleUser'
  AccountId: string
  Arn: string
  PrincipalId: string
  UserId?: string
  RoleId?: string
  RequestId: string
}

/** A stable 16-digit RAM user id, as Alibaba's user ids look. */
function userId(accountId: string, userName: string): string {
  const digest = createHash('sha256').update(`user:${accountId}:${userName.toLowerCase()}`).digest()
  return (10n ** 15n + (digest.readBigUInt64BE(0) % (9n * 10n ** 15n))).toString()
}

/**
 * The identity of `caller`. A role session's Arn is `acs:ram::<account>:assumed-role/<role>/<session>`
 * and its PrincipalId `<RoleId>:<session>` (the AssumedRoleId AssumeRole returned); a RAM user's Arn is
 * `acs:ram::<account>:user/<name>`; the root account's `acs:ram::<account>:root`.
 */
export function callerIdentity(caller: Caller, requestId: string): CallerIdentityBody {
  const { accountId, session, user } = caller
  if (session) {
    const id = roleId(session.accountId, session.roleName)
    return {
      IdentityType: 'AssumedRoleUser',
      AccountId: session.accountId,
      Arn: `acs:ram::${session.accountId}:assumed-role/${session.roleName}/${session.sessionName}`,
      PrincipalId: session.assumedRoleId,
      RoleId: id,
      RequestId: requestId,
    }
  }
  if (user) {
    const id = userId(accountId, user.name)
    return {
      IdentityType: 'RAMUser',
      AccountId: accountId,
      Arn: `acs:ram::${accountId}:user/${user.name}`,
      PrincipalId: id,
      UserId: id,
      RequestId: requestId,
    }
  }
  return {
    IdentityType: 'Account',
    AccountId: accountId,
    Arn: `acs:ram::${accountId}:root`,
    PrincipalId: accountId,
    UserId: accountId,
    RequestId: requestId,
  }
}
