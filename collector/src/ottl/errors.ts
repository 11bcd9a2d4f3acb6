/** Errors of the condition language: parse/compile time (with a position) and evaluation time. */

/** A condition that cannot be parsed or compiled. `position` is the 0-based character offset in the text. */
export class ParseError extends Error {
  override name = 'ParseError';
  constructor(
    /** What went wrong, without the position (e.g. `expected ")"`). */
    readonly reason: string,
    readonly position: number,
    /** Extra detail appended after the position (e.g. the regex engine's message). */
    readonly detail?: string,
  ) {
    super(`${reason} at position ${position}${detail ? ` (${detail})` : ''}`);
  }
}

/** A condition that failed on one record (e.g. indexing into a string). Handled per `error_mode`. */
export class EvaluationError extends Error {
  override name = 'EvaluationError';
}
