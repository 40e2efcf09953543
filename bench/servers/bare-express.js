// Bare express 5, the bench's reference: the same route answering a same-size JSON body, nothing else.
// Plain JavaScript run by plain node (no tsx), as the simplest express app would be. With a third
// argument (a JSON file of [name, value] pairs), it also sets those response headers on every answer:
// the header set sts-vend's answers carry, to price the headers the design requires on their own.
import { readFileSync } from 'node:fs'
import express from 'express'

const [port, bodyFile, headersFile] = process.argv.slice(2)
const body = JSON.parse(readFileSync(bodyFile, 'utf8'))
const headers = headersFile ? JSON.parse(readFileSync(headersFile, 'utf8')) : []
const app = express()
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }))
const answer = (_req, res) => {
  for (const [name, value] of headers) res.setHeader(name, value)
  res.json(body)
}
app.get('/v1/credentials', answer)
app.post('/v1/credentials', answer)
const server = app.listen(Number(port), '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
