// The Node lines the suite reads from the Dockerfile and package.json (test/fixtures/node-line.ts), which
// decide where the image's start tests run.
import { describe, expect, it } from 'vitest'
import { enginesNodeMajor, imageNodeMajor } from '../fixtures/node-line.ts'

describe('the Node lines of the image and of engines', () => {
  it("when the Dockerfile is read, then every stage's FROM names the same Node line, and engines allows it", () => {
    const image = imageNodeMajor()
    expect(image).toBeGreaterThanOrEqual(22)
    expect(image).toBeGreaterThanOrEqual(enginesNodeMajor())
  })

  it('when the FROM lines disagree or name no Node, then reading them throws', () => {
    expect(imageNodeMajor('FROM node:24.1.0-slim AS a\nFROM node:24-alpine\n')).toBe(24)
    expect(() => imageNodeMajor('FROM node:24.1.0 AS a\nFROM node:22.1.0\n')).toThrow(/no single Node line/)
    expect(() => imageNodeMajor('FROM debian:12\n')).toThrow(/no single Node line/)
  })

  it('when engines.node is read, then its ">=" floor is the major version; another range throws', () => {
    expect(enginesNodeMajor(JSON.stringify({ engines: { node: '>=22.12.0' } }))).toBe(22)
    expect(() => enginesNodeMajor(JSON.stringify({ engines: { node: '^22' } }))).toThrow(/not a ">=" range/)
    expect(() => enginesNodeMajor('{}')).toThrow(/not a ">=" range/)
  })
})
