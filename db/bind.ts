/**
 * Binds an engine's repository functions (each taking its connection first)
 * to one connection, giving the engine-neutral `Repositories` of db/types.ts.
 *
 * @module
 */
/** `T`'s functions without their first (connection) parameter. */
export type Bound<C, T> = {
  [K in keyof T]: T[K] extends (db: C, ...rest: infer A) => infer R ? (...rest: A) => R : never;
};

/**
 * Returns `functions` with `connection` as their first argument. Engines
 * assign the result to a `Repositories` field, so an engine missing an
 * operation, or with a different signature, does not compile.
 */
export function bindRepositories<C, T extends object>(
  connection: C,
  functions: T,
): Bound<C, T> {
  const bound: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(functions)) {
    if (typeof value === "function") {
      bound[name] = (...rest: unknown[]) => value(connection, ...rest);
    }
  }
  return bound as Bound<C, T>;
}
