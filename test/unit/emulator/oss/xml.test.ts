// OSS XML: escaping, the <Error> body, and reading CompleteMultipartUpload bodies, hostile ones included.
import { describe, expect, it } from 'vitest'
import { OssError } from '../../../../src/emulator/oss/errors.ts'
import { errorXml, parseCompleteMultipartUpload } from '../../../../src/emulator/oss/xml.ts'
import { cpuTimed } from '../../../fixtures/cpu-time.ts'

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return err instanceof OssError ? err.code : 'thrown'
  }
}

describe('OSS XML', () => {
  it('when an error is rendered, then Code, Message, RequestId, HostId and extra fields come in order, escaped', () => {
    const error = new OssError('NoSuchKey', undefined, { Key: 'a<b>&"c"' })
    expect(errorXml(error, 'RID', 'examplebucket.oss-cn-hangzhou.aliyuncs.com')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>' +
        '<RequestId>RID</RequestId><HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>' +
        '<Key>a&lt;b&gt;&amp;&quot;c&quot;</Key></Error>',
    )
    expect(error.status).toBe(404)
  })

  it('when ali-oss completes an upload, then every part number and ETag is read', () => {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload>\n' +
      '<Part>\n<PartNumber>1</PartNumber>\n<ETag>"AB&quot;"</ETag>\n</Part>\n' +
      '<Part><PartNumber> 2 </PartNumber><ETag>CD</ETag></Part>\n</CompleteMultipartUpload>'
    expect(parseCompleteMultipartUpload(body)).toEqual([
      { partNumber: 1, etag: '"AB""' },
      { partNumber: 2, etag: 'CD' },
    ])
  })

  it.each([
    ['an empty body', ''],
    ['another root', '<Other><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Other>'],
    ['no part', '<CompleteMultipartUpload></CompleteMultipartUpload>'],
    [
      'a part without an ETag',
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
    ],
    [
      'text between parts',
      '<CompleteMultipartUpload>x<Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>',
    ],
    [
      'an unclosed part',
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></CompleteMultipartUpload>',
    ],
    [
      '10001 parts',
      `<CompleteMultipartUpload>${'<Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>'.repeat(10_001)}</CompleteMultipartUpload>`,
    ],
  ])('when the body is %s, then MalformedXML', (_why, body) => {
    expect(codeOf(() => parseCompleteMultipartUpload(body))).toBe('MalformedXML')
  })

  it('when a 2 MB body of unclosed parts and whitespace arrives, then it is refused in linear time', () => {
    const hostile = `<CompleteMultipartUpload>${' '.repeat(1_000_000)}${'<Part>'.repeat(150_000)}</CompleteMultipartUpload>`
    const { value: code, ms } = cpuTimed(() => codeOf(() => parseCompleteMultipartUpload(hostile)))
    expect(code).toBe('MalformedXML')
    // CPU time, not wall time: the suite's other workers do not count against the parser.
    expect(ms).toBeLessThan(500)
  })
})
