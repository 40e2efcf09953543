// Reading a fetch answer of bounded size: stop at the cap, and drop the connection rather than drain it.

/**
 * The body of `response`, or undefined when it is (or says it is) larger than `maxBytes`. Reading stops
 * at the first chunk past the cap and the body is cancelled, which closes the connection: a hostile or
 * broken upstream costs at most `maxBytes` plus one chunk of memory, never its whole answer.
 */
export async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined)
    return undefined
  }
  const reader = response.body?.getReader()
  if (!reader) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}
