/** Exit codes of the `saturn` command; documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  failure: 1,
  badInput: 2,
  infeasible: 3,
  aws: 4,
  /** The API has no such workload (HTTP 404). */
  notFound: 5,
  /** The workload's state does not allow the request (HTTP 409), e.g. approving a running one. */
  conflict: 6,
} as const;
