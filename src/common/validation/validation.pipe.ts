import { ArgumentMetadata, HttpException, Logger, ValidationPipe } from '@nestjs/common';
import { ValidationFailedException } from '../errors/validation.exception';
import { bodyShapeProblems } from './body-shape';

/**
 * The global ValidationPipe (unknown fields rejected, values transformed), plus what no DTO may see
 * (docs/api.md, "Request hygiene"): reserved keys and malformed strings in bodies (multipart text
 * fields included; JSON bodies were checked when read) and queries. A validator that throws on
 * input it did not expect is the input's fault: a 400, logged, never a 500.
 */
export class AppValidationPipe extends ValidationPipe {
  private readonly logger = new Logger(AppValidationPipe.name);

  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) => ValidationFailedException.fromValidationErrors(errors),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') {
      const problems = bodyShapeProblems(value);
      if (problems.length > 0) throw new ValidationFailedException(problems);
    }
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof HttpException) throw error;
      this.logger.warn({ msg: 'validator threw on input', in: metadata.type, err: error });
      throw new ValidationFailedException([{ field: metadata.data ?? metadata.type, message: 'could not be read' }]);
    }
  }
}
