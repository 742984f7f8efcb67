export {
  defaultTestEnvironment,
  type IntegrationFile,
  type IntegrationTestOptions,
  integrationTestFiles,
  PIPELINE_PATH,
  packageVersion,
  SCENARIO_PATH,
} from './plan.js'
