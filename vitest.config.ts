import { availableParallelism } from 'node:os'
import { configDefaults, defineConfig } from 'vitest/config'

const ALONE = ['test/e2e/soak-short.test.ts', 'test/e2e/fleet.test.ts']

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: on a 2-core runner, one file at a time. Half
    // of the suite's time is waiting (spawned processes, the browser, sockets, Redis), so one worker more
    // than the cores keeps both cores busy; the files are independent (free ports, temp dirs, per-run
    // Redis key prefixes). `--maxWorkers` on the command line still overrides this.
    maxWorkers: availableParallelism() + 1,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...ALONE],
        },
      },
      // Files that load the machine themselves and judge what happens under that load (the short soak: 30 s
      // at c=50, drain and RSS; the fleet e2e: AssumeRole arrivals per second at the emulator) run after
      // the others, one at a time, as they did when the suite ran one file at a time.
      { extends: true, test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // The floor, just under what the suite measured (2026-12-04: lines 91.7 %, statements 89.4 %,
      // functions 90.3 %, branches 83.6 %): a change that drops below it fails `npm test`.
      thresholds: { lines: 90, statements: 88, functions: 88, branches: 82 },
    },
  },
})
