import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { AppError } from '../platform/errors';

/** A path we serve, asked with a method it does not take: 405 with `Allow` (set by the error middleware). */
export class MethodNotAllowedError extends AppError {
  constructor(
    method: string,
    path: string,
    readonly allow: string[],
  ) {
    super('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; allowed: ${allow.join(', ')}`, 405);
  }
}

/**
 * What the routers serve, read from their route layers (a nested router's routes are copied into
 * its parent with the prefix applied, so the top-level routers hold every route). As in OpenAPI,
 * a concrete path takes precedence over a templated one that also matches it: `/assessments/start`
 * is the POST route's, not an `/assessments/{assessment_id}` whose id is "start".
 */
export interface RouteTable {
  /** The methods the path takes (HEAD comes with GET), in registration order; [] when no route serves it. */
  allowed(path: string): string[];
  /** The template of the route that answers `method path` (e.g. `/api/v1/assessments/:assessment_id`). */
  template(method: string, path: string): string | undefined;
}

export function routeTable(routers: Router[]): RouteTable {
  // Read when first asked, once every route is registered.
  let cached: Router['stack'] | undefined;
  const routes = () => (cached ??= routers.flatMap((r) => r.stack).filter((layer) => layer.methods.length > 0));
  const candidates = (path: string) => {
    const matching = routes().filter((layer) => layer.match(path));
    const concrete = matching.filter((layer) => layer.paramNames.length === 0);
    return concrete.length > 0 ? concrete : matching;
  };
  return {
    allowed(path) {
      return [...new Set(candidates(path).flatMap((layer) => layer.methods))];
    },
    template(method, path) {
      const upper = method.toUpperCase();
      // The last matching layer, as @koa/router reports its matched route.
      const layer = candidates(path)
        .filter((l) => l.methods.includes(upper))
        .pop();
      return layer ? String(layer.path) : undefined;
    },
  };
}

/**
 * Replaces @koa/router's `allowedMethods()` (which answers 501 for a method it does not know and
 * 405 in plain text, and when told to throw drops the `Allow` list). Before routing: a method the
 * path does not take is a 405 METHOD_NOT_ALLOWED in the error shape with `Allow` (before
 * authentication: which methods a path takes is public, in the contract); OPTIONS answers 204
 * with `Allow`. A path no route serves goes on to the routers, and stays a 404 ROUTE_NOT_FOUND.
 * Mount it inside the error middleware, before the routers.
 */
export function methodNotAllowed(table: RouteTable): Middleware {
  return async (ctx, next) => {
    const allow = table.allowed(ctx.path);
    if (allow.length > 0 && !allow.includes(ctx.method)) {
      if (ctx.method !== 'OPTIONS') throw new MethodNotAllowedError(ctx.method, ctx.path, allow);
      ctx.set('Allow', [...allow, 'OPTIONS'].join(', '));
      ctx.status = 204;
      return;
    }
    await next();
  };
}
