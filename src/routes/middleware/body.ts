// Reads a request body before authentication, bounded: 413 past the limit, 415 for anything but plain JSON,
// 400 for two Content-Type headers or a body the client abandoned.
import express, { type NextFunction, type Request, type Response } from 'express'
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../../errors.ts'

/** application/json, optionally with charset=utf-8; nothing else (no other charset, no form, no text). */
const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i

function hasBody(req: Request): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/** Leaves the raw body in res.locals.rawBody; JSON syntax is checked later, after authentication. */
export function rawJsonBody(limitBytes: number) {
  const read = express.raw({ type: () => true, limit: limitBytes, inflate: false })
  return function bodyMiddleware(req: Request, res: Response, next: NextFunction): void {
    // Node keeps the first of two Content-Type headers; a proxy may act on the other (SEC: issue 16).
    if ((req.headersDistinct['content-type']?.length ?? 0) > 1) {
      next(new InvalidRequest('Content-Type must be given once.', { reason: 'duplicate content-type' }))
      return
    }
    if (!hasBody(req)) {
      next()
      return
    }
    const encoding = req.headers['content-encoding']
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      next(new UnsupportedMediaType())
      return
    }
    if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
      next(new UnsupportedMediaType())
      return
    }
    read(req, res, (err?: unknown) => {
      if (err) {
        const type = (err as { type?: string }).type
        if (type === 'entity.too.large') next(new PayloadTooLarge({ reason: 'body over limit' }))
        else if (type === 'encoding.unsupported' || type === 'charset.unsupported')
          next(new UnsupportedMediaType())
        else if (type === 'request.aborted' || type === 'request.size.invalid')
          // The client hung up mid-body, or sent fewer bytes than Content-Length: its fault, not ours.
          next(new InvalidRequest('The request body was incomplete.', { reason: 'client aborted the body' }))
        else next(err)
        return
      }
      res.locals.rawBody = Buffer.isBuffer(req.body) ? req.body : undefined
      next()
    })
  }
}
