export { isLoopbackHost } from '../net/host.ts'
export {
  ConfigError,
  type ConfigProblem,
  compileRules,
  formatPath,
  loadConfig,
  loadConfigFile,
  parseConfigText,
  readConfigFile,
} from './load.ts'
export { metricsToken } from './metrics-token.ts'
export * from './schema.ts'
