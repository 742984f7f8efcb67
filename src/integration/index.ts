export {
  defaultTestEnvironment,
  type IntegrationFile,
  type IntegrationTestOptions,
  integrationTestFiles,
  PIPELINE_PATH,
  SCENARIO_PATH,
} from './plan.js'
