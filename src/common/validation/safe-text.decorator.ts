import { ValidateBy, ValidationArguments, ValidationOptions } from 'class-validator';
import { textProblem, textProblemMessage } from './text';

export interface SafeTextOptions extends Pick<ValidationOptions, 'each'> {
  /** Free text: tab, CR and LF are allowed. */
  multiline?: boolean;
}

/**
 * Refuses NUL and every other C0/C1 control character and DEL (tab, CR, LF too unless
 * `multiline`), and lone UTF-16 surrogates — every string field of every DTO carries it
 * (docs/api.md, "Request hygiene"). Non-strings pass: `@IsString()` reports them.
 */
export function SafeText(options: SafeTextOptions = {}): PropertyDecorator {
  const multiline = options.multiline ?? false;
  return ValidateBy(
    {
      name: 'safeText',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || textProblem(value, multiline) === undefined,
        defaultMessage: ({ property, value }: ValidationArguments) => {
          const texts: unknown[] = Array.isArray(value) ? value : [value];
          const problem = texts
            .map((text) => (typeof text === 'string' ? textProblem(text, multiline) : undefined))
            .find((found) => found !== undefined);
          return textProblemMessage(property, problem ?? 'control-character', multiline);
        },
      },
    },
    { each: options.each },
  );
}
