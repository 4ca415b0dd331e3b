/** One problem found in user input: where it is, what was expected, what came. */
export interface InputIssue {
  readonly path: string;
  readonly message: string;
}

/** The input (spec file, API body, worker message) is malformed. CLI exit code 2, HTTP 400. */
export class InvalidWorkloadError extends Error {
  override readonly name = "InvalidWorkloadError";
  readonly issues: readonly InputIssue[];
  constructor(issues: readonly InputIssue[], options?: { cause?: unknown; subject?: string }) {
    const subject = options?.subject ?? "workload";
    super(
      `Invalid ${subject}: ${issues.length} problem${issues.length === 1 ? "" : "s"}\n` +
        issues.map((issue) => `  ${issue.path}: ${issue.message}`).join("\n"),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.issues = issues;
  }
}

/**
 * The input is well formed but no plan satisfies it. The message names the binding
 * constraint and a way out. CLI exit code 3, HTTP 422.
 */
export class InfeasibleWorkloadError extends Error {
  override readonly name = "InfeasibleWorkloadError";
  readonly constraint: string;
  constructor(constraint: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.constraint = constraint;
  }
}
