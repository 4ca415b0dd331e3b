/**
 * The REST API's resources as the stack declares them (every method `AWS_IAM`), for the
 * local router: a request matches one `{method, resource}` or API Gateway answers 403
 * "Missing Authentication Token", as a deployed REST API does for an unknown route.
 */

export interface ApiRoute {
  readonly method: "GET" | "POST";
  /** API Gateway's resource path template, e.g. `/workloads/{id}/plan`. */
  readonly resource: string;
}

export const SATURN_API_ROUTES: readonly ApiRoute[] = [
  { method: "POST", resource: "/workloads" },
  { method: "GET", resource: "/workloads" },
  { method: "GET", resource: "/workloads/{id}" },
  { method: "GET", resource: "/workloads/{id}/plan" },
  { method: "POST", resource: "/workloads/{id}/approve" },
  { method: "POST", resource: "/workloads/{id}/cancel" },
  { method: "GET", resource: "/catalog" },
];

export interface RouteMatch {
  readonly route: ApiRoute;
  /** Decoded values of the template's `{name}` segments; null when it has none (as in API Gateway events). */
  readonly pathParameters: Readonly<Record<string, string>> | null;
}

export function matchRoute(routes: readonly ApiRoute[], method: string, path: string): RouteMatch | undefined {
  const segments = path.split("/").filter((s) => s !== "");
  for (const route of routes) {
    if (route.method !== method) continue;
    const template = route.resource.split("/").filter((s) => s !== "");
    if (template.length !== segments.length) continue;
    const parameters: Record<string, string> = {};
    let matched = true;
    for (let k = 0; k < template.length && matched; k++) {
      const part = template[k] ?? "";
      const segment = segments[k] ?? "";
      const name = /^\{([A-Za-z0-9_]+)\}$/.exec(part)?.[1];
      if (name !== undefined) {
        try {
          parameters[name] = decodeURIComponent(segment);
        } catch {
          matched = false;
        }
      } else matched = part === segment;
    }
    if (matched) return { route, pathParameters: Object.keys(parameters).length === 0 ? null : parameters };
  }
  return undefined;
}
