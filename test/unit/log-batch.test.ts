// batchedDestination: the lines of one event-loop turn reach the sink in one write, in order, none lost.
import { describe, expect, it } from 'vitest'
import { batchedDestination } from '../../src/log-batch.ts'

function sink() {
  const writes: string[] = []
  let syncFlushes = 0
  return {
    writes,
    syncFlushes: () => syncFlushes,
    write(chunk: string) {
      writes.push(chunk)
    },
    flushSync() {
      syncFlushes += 1
    },
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('batchedDestination', () => {
  it('when several lines are written in one turn, then the sink gets them in one write, in order', async () => {
    const s = sink()
    const d = batchedDestination(s)
    d.write('a\n')
    d.write('b\n')
    d.write('c\n')
    expect(s.writes).toEqual([])
    await turn()
    expect(s.writes).toEqual(['a\nb\nc\n'])
  })

  it('when lines come in two turns, then there are two writes and nothing is repeated', async () => {
    const s = sink()
    const d = batchedDestination(s)
    d.write('1\n')
    await turn()
    d.write('2\n')
    d.write('3\n')
    await turn()
    expect(s.writes).toEqual(['1\n', '2\n3\n'])
  })

  it('when flushSync is called, then pending lines are handed over at once and the sink flushes synchronously', () => {
    const s = sink()
    const d = batchedDestination(s)
    d.write('x\n')
    d.flushSync()
    expect(s.writes).toEqual(['x\n'])
    expect(s.syncFlushes()).toBe(1)
  })

  it('when flush is called, then pending lines are handed over and the callback runs', async () => {
    const s = sink()
    const d = batchedDestination(s)
    d.write('y\n')
    const flushed = new Promise<void>((resolve) => d.flush(() => resolve()))
    expect(s.writes).toEqual(['y\n'])
    await flushed
    await turn()
    expect(s.writes).toEqual(['y\n'])
  })
})
