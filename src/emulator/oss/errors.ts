// OSS error codes, statuses and messages as the emulator's OSS side answers them (an `<Error>` XML body).

/**
 * Every code the OSS side answers with, with OSS's HTTP status and message. Authentication and
 * authorization problems are all 403, as OSS answers them.
 */
export const OSS_ERRORS = {
  AccessDenied: { status: 403, message: 'You have no right to access this object because of bucket acl.' },
  InvalidAccessKeyId: {
    status: 403,
    message: 'The OSS Access Key Id you provided does not exist in our records.',
  },
  InvalidSecurityToken: { status: 403, message: 'The security token you provided is invalid.' },
  SecurityTokenExpired: { status: 403, message: 'The security token you provided has expired.' },
  SignatureDoesNotMatch: {
    status: 403,
    message: 'The request signature we calculated does not match the signature you provided.',
  },
  RequestTimeTooSkewed: {
    status: 403,
    message: 'The difference between the request time and the current time is too large.',
  },
  SecondLevelDomainForbidden: { status: 403, message: 'Please use virtual hosted style to access.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist.' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchUpload: {
    status: 404,
    message:
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  },
  InvalidArgument: { status: 400, message: 'The request has an invalid argument.' },
  InvalidURI: { status: 400, message: 'The request URI is not valid.' },
  InvalidObjectName: { status: 400, message: 'The object name is not valid.' },
  InvalidDigest: { status: 400, message: 'The Content-MD5 you specified is not valid.' },
  InvalidPart: {
    status: 400,
    message: 'One or more of the specified parts could not be found or the ETag does not match.',
  },
  InvalidPartOrder: { status: 400, message: 'The list of parts was not in ascending order.' },
  EntityTooSmall: {
    status: 400,
    message: 'Your proposed upload is smaller than the minimum allowed size.',
  },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed size.' },
  InvalidTag: { status: 400, message: 'The tag you provided is not valid.' },
  InvalidPolicyDocument: {
    status: 400,
    message: 'Invalid Policy: the policy is not valid JSON or misses a field.',
  },
  MalformedPOSTRequest: {
    status: 400,
    message: 'The body of your POST request is not well-formed multipart/form-data.',
  },
  PositionNotEqualToLength: {
    status: 409,
    message: 'Position is not equal to file length',
  },
  ObjectNotAppendable: { status: 409, message: 'The object is not appendable' },
  MalformedXML: { status: 400, message: 'The XML you provided was not well-formed.' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  NotImplemented: { status: 501, message: 'The emulator does not implement this OSS operation.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
} as const satisfies Record<string, { status: number; message: string }>

export type OssErrorCode = keyof typeof OSS_ERRORS

/** An OSS error answer: the code, its status, the message and extra `<Error>` fields (e.g. ServerTime). */
export class OssError extends Error {
  readonly status: number
  constructor(
    readonly code: OssErrorCode,
    message?: string,
    readonly fields: Readonly<Record<string, string>> = {},
  ) {
    super(message ?? OSS_ERRORS[code].message)
    this.name = 'OssError'
    this.status = OSS_ERRORS[code].status
  }
}
