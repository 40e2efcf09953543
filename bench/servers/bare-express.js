// Bare express 5, the bench's reference: the same route answering a same-size JSON body, nothing else.
// Plain JavaScript run by plain node (no tsx), as the simplest express app would be.
import { readFileSync } from 'node:fs'
import express from 'express'

const [port, bodyFile] = process.argv.slice(2)
const body = JSON.parse(readFileSync(bodyFile, 'utf8'))
const app = express()
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }))
app.get('/v1/credentials', (_req, res) => res.json(body))
app.post('/v1/credentials', (_req, res) => res.json(body))
const server = app.listen(Number(port), '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
