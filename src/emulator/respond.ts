// What the emulator's STS answers share: the body cap and Alibaba's JSON content type.

/** Bodies above this are refused: no STS request comes near it (a Policy is at most 2048 characters). */
export const MAX_BODY_BYTES = 256 * 1024

/** STS answers JSON with this exact content type (no space before charset); pass it to sendJson. */
export const STS_JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json;charset=utf-8',
}
