export {
  ConfigError,
  type ConfigProblem,
  formatPath,
  loadConfig,
  loadConfigFile,
  parseConfigText,
  readConfigFile,
} from './load.ts'
export { isLoopbackHost } from './loopback.ts'
export * from './schema.ts'
