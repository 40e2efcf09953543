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
export { isLoopbackHost } from './loopback.ts'
export * from './schema.ts'
