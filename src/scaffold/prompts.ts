import { DNS_LABEL } from '../spec/index.js'
import { parseComponentFlag } from './inputs.js'

/**
 * Ask for what init cannot do without (app name, components), only when a person is at a terminal; prompts go to
 * stderr so stdout keeps the result. @inquirer/prompts is loaded here only.
 */
export async function promptForMissing(missing: {
  app: boolean
  components: boolean
}): Promise<{ app?: string; components: string[] }> {
  const { input } = await import('@inquirer/prompts')
  const context = { output: process.stderr }
  const answers: { app?: string; components: string[] } = { components: [] }
  if (missing.app) {
    answers.app = await input(
      {
        message: 'Application name (as in Konflux)',
        validate: (value) => DNS_LABEL.test(value) || 'lowercase letters, digits and "-", e.g. shop',
      },
      context,
    )
  }
  if (missing.components) {
    for (;;) {
      const value = await input(
        {
          message:
            answers.components.length === 0
              ? 'Component as NAME=IMAGE[:PORT], e.g. api=quay.io/acme/shop/api'
              : 'Another component (empty to finish)',
          validate: (text) => {
            if (text === '' && answers.components.length > 0) return true
            try {
              parseComponentFlag(text)
              return true
            } catch (error) {
              return (error as Error).message
            }
          },
        },
        context,
      )
      if (value === '') break
      answers.components.push(value)
    }
  }
  return answers
}
