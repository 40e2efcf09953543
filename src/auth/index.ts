// Caller authentication (design §2, §3 issuers, §6.1): the only entry points the HTTP layer uses.
export { MAX_TOKEN_BYTES, parseBearer } from './bearer.ts'
export { MemoryNonceStore, type NonceStore } from './nonce-store.ts'
export { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from './token-verifier.ts'
