// Alibaba Cloud STS/POP error codes, statuses and body shape (protocol reference §2.2, §2.5), as the emulator answers.

/**
 * Every code the emulator answers with, with Alibaba's HTTP status and message. Statuses and codes follow
 * the STS API error table and the common POP gateway errors; messages follow Alibaba's wording where it
 * is documented.
 */
export const STS_ERRORS = {
  IncompleteSignature: {
    status: 400,
    message: 'The request signature does not conform to Aliyun standards.',
  },
  MissingAccessKeyId: { status: 400, message: 'AccessKeyId is mandatory for this action.' },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  'InvalidAccessKeyId.Inactive': { status: 400, message: 'Specified access key is disabled.' },
  SignatureDoesNotMatch: {
    status: 400,
    message: 'Specified signature is not matched with our calculation.',
  },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  'InvalidTimeStamp.Format': {
    status: 400,
    message: 'Specified time stamp or date value is not well formatted.',
  },
  MissingSecurityToken: { status: 400, message: 'SecurityToken is mandatory for this action.' },
  'InvalidSecurityToken.Expired': { status: 400, message: 'Specified SecurityToken is expired.' },
  'InvalidSecurityToken.Malformed': { status: 400, message: 'Specified SecurityToken is malformed.' },
  'InvalidSecurityToken.MismatchWithAccessKey': {
    status: 400,
    message: 'Specified SecurityToken mismatch with the AccessKey.',
  },
  'InvalidAction.NotFound': {
    status: 404,
    message: 'Specified api is not found, please check your url and method.',
  },
  InvalidParameter: { status: 400, message: 'The specified parameter is not valid.' },
  'InvalidParameter.RoleArn': { status: 400, message: 'The parameter RoleArn is wrongly formed.' },
  'InvalidParameter.RoleSessionName': {
    status: 400,
    message: 'The parameter RoleSessionName is wrongly formed.',
  },
  'InvalidParameter.DurationSeconds': {
    status: 400,
    message: 'The Min/Max value of DurationSeconds is 15min/1hr.',
  },
  'InvalidParameter.PolicyGrammar': {
    status: 400,
    message: 'The parameter Policy has not passed grammar check.',
  },
  'InvalidParameter.PolicySize': {
    status: 400,
    message: 'The parameter Policy is too long, it must be at most 2048 characters.',
  },
  'InvalidParameter.ExternalId': { status: 400, message: 'The parameter ExternalId is wrongly formed.' },
  // Undocumented by Alibaba (reference §3): the emulator's code for a malformed or changed SourceIdentity.
  'InvalidParameter.SourceIdentity': {
    status: 400,
    message: 'The parameter SourceIdentity is wrongly formed.',
  },
  'MissingParameter.RoleArn': {
    status: 400,
    message: 'The input parameter "RoleArn" that is mandatory for processing this request is not supplied.',
  },
  'MissingParameter.RoleSessionName': {
    status: 400,
    message:
      'The input parameter "RoleSessionName" that is mandatory for processing this request is not supplied.',
  },
  NoPermission: {
    status: 403,
    message: 'You are not authorized to do this action. You should be authorized by RAM.',
  },
  'EntityNotExist.Role': { status: 404, message: 'The specified Role not exists.' },
  'Throttling.User': { status: 400, message: 'Request was denied due to user flow control.' },
  InternalError: { status: 500, message: 'STS Server Internal Error happened.' },
  ServiceUnavailable: {
    status: 503,
    message: 'The request has failed due to a temporary failure of the server.',
  },
} as const satisfies Record<string, { status: number; message: string }>

export type StsErrorCode = keyof typeof STS_ERRORS

/** An error the emulator answers with: Alibaba's code, HTTP status and message, plus extra headers. */
export class AlibabaError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
    this.name = 'AlibabaError'
  }
}

/** The catalogued error for `code`; `message` replaces the catalogue text when given. */
export function stsError(
  code: StsErrorCode,
  message?: string,
  headers?: Readonly<Record<string, string>>,
): AlibabaError {
  const spec = STS_ERRORS[code]
  return new AlibabaError(code, spec.status, message ?? spec.message, headers)
}

/** Alibaba's JSON error body (reference §2.2). */
export interface AlibabaErrorBody {
  RequestId: string
  HostId: string
  Code: string
  Message: string
  Recommend: string
}

/** The body Alibaba's POP gateway returns for an error. */
export function errorBody(error: AlibabaError, requestId: string, hostId: string): AlibabaErrorBody {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: error.code,
    Message: error.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=Sts&requestId=${requestId}`,
  }
}
