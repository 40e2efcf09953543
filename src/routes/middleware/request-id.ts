// X-Request-Id: keep a well-formed inbound id, otherwise make one (design §6.1).
import { randomUUID } from 'node:crypto'
import type { NextFunction, Request, Response } from 'express'

const WELL_FORMED = /^[A-Za-z0-9._-]{1,64}$/

export function requestId(req: Request, res: Response, next: NextFunction): void {
  const inbound = req.headers['x-request-id']
  const id = typeof inbound === 'string' && WELL_FORMED.test(inbound) ? inbound : randomUUID()
  res.locals.requestId = id
  res.setHeader('X-Request-Id', id)
  next()
}
