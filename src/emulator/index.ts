// The local STS and OSS emulator (design §10): public API for the CLI, dev mode and tests.
export { type AssumeRoleResponseBody, formatExpiration } from './assume-role.ts'
export { type Caller, MAX_SKEW_MS } from './authenticate.ts'
export type { CallerIdentityBody } from './caller-identity.ts'
export type { EmulatorClock } from './clock.ts'
export {
  type EmulatorAccount,
  type EmulatorConfig,
  type EmulatorConfigInput,
  type EmulatorRole,
  type EmulatorUser,
  emulatorConfigSchema,
  findAccessKey,
  findRole,
  loadEmulatorConfigFile,
  parseEmulatorConfig,
  parseEmulatorConfigText,
} from './config.ts'
export type { CallCounters, CountersSnapshot, LastAssumeRole } from './counters.ts'
export {
  ASSUME_ANY_ROLE_POLICY,
  accountTrustPolicy,
  DEFAULT_EMULATOR_CONFIG,
  DEFAULT_ROLE_ARNS,
  DEV_ACCESS_KEY,
  DEV_ACCOUNT_ID,
  DEV_ROOT_ACCESS_KEY,
  DEV_SERVICE_USER,
  PARTNER_ACCESS_KEY,
  PARTNER_ACCOUNT_ID,
  PARTNER_EXTERNAL_ID,
  PARTNER_ROOT_ACCESS_KEY,
} from './default-config.ts'
export { AlibabaError, type AlibabaErrorBody, STS_ERRORS, type StsErrorCode } from './errors.ts'
export { FAULT_KINDS, type Fault, type FaultController, type FaultInput, type FaultKind } from './faults.ts'
export { type OssAuthorization, type OssNetwork, type OssResources, ossResources } from './oss/authorize.ts'
export { OSS_ERRORS, OssError, type OssErrorCode } from './oss/errors.ts'
export { SOURCE_IP_HEADER, VPC_ID_HEADER } from './oss/server.ts'
export type { ObjectStore, StoredObject } from './oss/store.ts'
export { isPolicyDocument, isPolicyGrammatical } from './policy-grammar.ts'
export { identityAllows, isTrustPolicy, shorthandTrustPolicy, type TrustSubject, trustAllows } from './ram.ts'
export { type Emulator, type StartEmulatorOptions, startEmulator } from './server.ts'
export type { IssuedSession, SessionStore } from './sessions.ts'
