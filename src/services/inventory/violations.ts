import { ConstraintViolation } from '../../db/constraint-errors.ts';
import { AppError, Errors } from '../../errors.ts';

/**
 * Maps a repository ConstraintViolation to the client's error: duplicates and deletes of
 * referenced rows are 409, references to missing rows are 400 naming the field and value.
 */
export function violationToAppError(err: unknown, input: Record<string, unknown> = {}): unknown {
  if (!(err instanceof ConstraintViolation)) return err;
  switch (err.kind) {
    case 'unique':
      return Errors.conflict(`${err.message}: ${JSON.stringify(input[err.field] ?? '')}`);
    case 'reference': {
      const noun = err.field.replace(/_ids?$/, '').replace(/_/g, ' ');
      return Errors.validation(`${err.field}: no ${noun} with id ${JSON.stringify(input[err.field] ?? '')}`);
    }
    case 'inUse':
      return Errors.conflict(err.message);
    case 'check':
      return new AppError('validation', err.message);
  }
}
