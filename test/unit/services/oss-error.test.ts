// Reading an OSS error body: Code, EC, RequestId, and the action/bucket/key of a signed request.
import { describe, expect, it } from 'vitest'
import { actionOf, parseOssError } from '../../../src/services/oss-error.ts'

describe('parseOssError', () => {
  it('when given Alibaba’s documented error body, then Code, RequestId, HostId, EC and the virtual-host bucket are read', () => {
    const facts = parseOssError(`<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>AccessDenied</Code>
  <Message>Access denied by bucket policy.</Message>
  <RequestId>65AF5037***5347E6D09</RequestId>
  <HostId>mybucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <EC>0003-00000201</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0003-00000201</RecommendDoc>
</Error>`)
    expect(facts).toMatchObject({
      code: 'AccessDenied',
      requestId: '65AF5037***5347E6D09',
      ec: '0003-00000201',
      bucket: 'mybucket',
      accessKeyId: null,
      action: null,
    })
  })

  it('when a V4 CanonicalRequest is present, then the action, bucket and key come from it', () => {
    const facts = parseOssError(
      '<Error><Code>SignatureDoesNotMatch</Code><CanonicalRequest>PUT\n/examplebucket/users/alice/a.jpg\nacl=\ncontent-type:x\n\nUNSIGNED-PAYLOAD</CanonicalRequest></Error>',
    )
    expect(facts).toMatchObject({
      action: 'oss:PutObjectAcl',
      bucket: 'examplebucket',
      key: 'users/alice/a.jpg',
    })
  })

  it('when entities are escaped, then they are decoded; when it is not an <Error>, then null', () => {
    expect(parseOssError('<Error><Message>a &lt;b&gt; &amp; &#x41;&#66;</Message></Error>')?.message).toBe(
      'a <b> & AB',
    )
    expect(parseOssError('<html>nope</html>')).toBeNull()
  })
})

describe('actionOf', () => {
  it('when given the common requests, then each maps to the OSS action RAM evaluates', () => {
    const q = (...names: string[]) => new Set(names)
    expect(actionOf('DELETE', 'k', q())).toBe('oss:DeleteObject')
    expect(actionOf('DELETE', 'k', q('uploadId'))).toBe('oss:AbortMultipartUpload')
    expect(actionOf('GET', 'k', q('uploadId'))).toBe('oss:ListParts')
    expect(actionOf('POST', 'k', q('uploads'))).toBe('oss:PutObject')
    expect(actionOf('HEAD', 'k', q())).toBe('oss:GetObject')
    expect(actionOf('GET', '', q())).toBe('oss:ListObjects')
    expect(actionOf('GET', '', q('uploads'))).toBe('oss:ListMultipartUploads')
    expect(actionOf('PATCH', 'k', q())).toBeNull()
  })
})
