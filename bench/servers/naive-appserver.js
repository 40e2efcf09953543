// The naive baseline: express calling AssumeRole on every request, as Alibaba's sample AppServer does.
// No token check, no cache, no retries: one STS call per request, so it is bound by the 100 calls/s quota.

import OpenApi from '@alicloud/openapi-client'
import Sts from '@alicloud/sts20150401'
import express from 'express'

const [port, endpoint, roleArn] = process.argv.slice(2)
const client = new Sts.default(
  new OpenApi.Config({
    accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    endpoint,
    protocol: 'http',
    regionId: 'cn-hangzhou',
  }),
)
const policy = JSON.stringify({
  Version: '1',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['oss:GetObject', 'oss:PutObject'],
      Resource: ['acs:oss:*:*:examplebucket/users/app/*'],
    },
  ],
})

const app = express()
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }))
app.get('/v1/credentials', async (_req, res) => {
  try {
    const answer = await client.assumeRole(
      new Sts.AssumeRoleRequest({ roleArn, roleSessionName: 'app-user', durationSeconds: 3600, policy }),
    )
    const c = answer.body.credentials
    res.json({
      StatusCode: 200,
      AccessKeyId: c.accessKeyId,
      AccessKeySecret: c.accessKeySecret,
      SecurityToken: c.securityToken,
      Expiration: c.expiration,
    })
  } catch (err) {
    res.status(500).json({ StatusCode: 500, ErrorCode: err.code ?? 'error' })
  }
})
const server = app.listen(Number(port), '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
