/** Exit codes of the `saturn` command; documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  failure: 1,
  badInput: 2,
  infeasible: 3,
  aws: 4,
} as const;
