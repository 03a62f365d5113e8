/**
 * Errors the repositories raise, the same on SQLite and PostgreSQL, so the API maps them to
 * HTTP answers (409, 422) without knowing which database said no. The driver's error stays as
 * `cause` for the logs.
 */
export type ConstraintKind = 'unique' | 'foreign-key' | 'not-null' | 'check';

export class ConstraintError extends Error {
  constructor(readonly kind: ConstraintKind, readonly table: string | undefined, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A row with the same unique value exists (channel id, stream key, token hash, …). */
export class UniqueViolationError extends ConstraintError {
  constructor(table: string | undefined, options?: { cause?: unknown }) {
    super('unique', table, `${table ?? 'a table'}: a row with this unique value already exists`, options);
  }
}

/** A reference to a row that does not exist (a stream key for an unknown channel, …). */
export class ForeignKeyViolationError extends ConstraintError {
  constructor(table: string | undefined, options?: { cause?: unknown }) {
    super('foreign-key', table, `${table ?? 'a table'}: refers to a row that does not exist`, options);
  }
}

/** The database holds a schema newer than this build knows: refuse rather than guess. */
export class SchemaTooNewError extends Error {
  constructor(readonly applied: number, readonly known: number) {
    super(`the database schema is at version ${applied}, this build knows up to ${known}: upgrade the origin`);
    this.name = 'SchemaTooNewError';
  }
}

/** Builds the typed error for a constraint the driver reported, or undefined for anything else. */
export function constraintError(kind: ConstraintKind | undefined, table: string | undefined, cause: unknown): Error | undefined {
  switch (kind) {
    case 'unique': return new UniqueViolationError(table, { cause });
    case 'foreign-key': return new ForeignKeyViolationError(table, { cause });
    case 'not-null': case 'check': return new ConstraintError(kind, table, `${kind} constraint failed on ${table ?? 'a table'}`, { cause });
    default: return undefined;
  }
}

/** A page cursor that this API did not hand out (or that was altered). */
export class InvalidCursorError extends Error {
  constructor() {
    super('invalid page cursor');
    this.name = 'InvalidCursorError';
  }
}
