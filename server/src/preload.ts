/**
 * Imported before anything that imports postgraphile (entry points and the test setup).
 *
 * PostGraphile 5 and grafast call Promise.withResolvers (Node >= 22). On Node 20 its absence
 * makes every connection field resolve to null with a masked error.
 *
 * Grafast reads GRAPHILE_ENV when it loads: development unless NODE_ENV says production.
 */
process.env.GRAPHILE_ENV ??= process.env.NODE_ENV === "production" ? "production" : "development";

interface PromiseWithResolversPolyfill<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const PromiseConstructor = Promise as unknown as {
  withResolvers?: <T>() => PromiseWithResolversPolyfill<T>;
};

if (typeof PromiseConstructor.withResolvers !== "function") {
  PromiseConstructor.withResolvers = function withResolvers<T>(): PromiseWithResolversPolyfill<T> {
    let resolve!: PromiseWithResolversPolyfill<T>["resolve"];
    let reject!: PromiseWithResolversPolyfill<T>["reject"];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
