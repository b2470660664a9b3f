import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { ValidationFailedException } from '../errors/validation.exception';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A route id: a UUID in any letter case, handed on in lower case — ids are stored lower-case and
 * compared case-insensitively, so an upper-case id finds the same row on SQLite (which compares
 * text byte by byte) as on PostgreSQL (docs/api.md, "Request hygiene"). Anything else → 400.
 * Use for every `:id` param: `@Param('id', UuidParamPipe) id: string`.
 */
@Injectable()
export class UuidParamPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (typeof value !== 'string' || !UUID.test(value)) {
      throw new ValidationFailedException([{ field: metadata.data ?? 'id', message: 'must be a UUID' }]);
    }
    return value.toLowerCase();
  }
}
