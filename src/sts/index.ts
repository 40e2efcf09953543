// The STS layer: the Alibaba SDK client with retries, breaker and rate cap, and the credential cache in front of it.
export {
  type AlibabaCredential,
  type AlibabaStsClientOptions,
  createAlibabaStsClient,
} from './alibaba-client.ts'
export { toStsCredentials } from './assume-role-response.ts'
export {
  type BreakerDecision,
  type BreakerPermit,
  type BreakerState,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  createCircuitBreaker,
} from './circuit-breaker.ts'
export {
  type CredentialCache,
  type CredentialCacheKey,
  type CredentialCacheOptions,
  type CredentialCacheStats,
  cacheKeyString,
  createCredentialCache,
  type EvictionKey,
} from './credential-cache.ts'
export { endpointResolves } from './endpoint-resolves.ts'
export { classifyStsError, type StsFailure, type StsFailureKind } from './error-mapping.ts'
export { createRateCap, type RateCap, type RateCapOptions } from './rate-cap.ts'
export {
  createResilientAssumeRole,
  type ResilienceOptions,
  type StsCallOutcome,
  type StsObserver,
} from './resilient-call.ts'
export { DEFAULT_RETRY, type RetryPolicy, retryDelayMs } from './retry.ts'
export { createStsService, type StsService, type StsServiceOptions } from './sts-service.ts'
