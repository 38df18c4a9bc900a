// The free names of the README's examples: a user's own functions and values, declared so that
// each block type-checks on its own (see readme-blocks.mjs).
declare class HttpError extends Error {
  constructor(response: Response);
  readonly response: Response;
}
/** A user's own error class for failures worth retrying. */
declare class TransientError extends Error {}
declare const orders: { get(id: string): Promise<unknown> };
interface User {
  readonly id: string;
  readonly name: string;
}
declare const config: { readonly retryTimeSeconds: number; readonly firstWaitSeconds: number };
declare const metrics: {
  increment(name: string): Promise<void>;
  gauge(name: string, value: number): void;
};
declare const url: string;
declare function fetchData(): Promise<unknown>;
declare function save(data: unknown): Promise<void>;
declare function readFileSync(path: string, encoding: 'utf8'): string;
declare function fetchJson(url: string): Promise<unknown>;
declare function fetchUser(id: string): Promise<User>;
declare function fetchOrder(id: string): Promise<unknown>;
declare function flakyFetch(url: string): Promise<unknown>;
declare function test(name: string, body: () => Promise<void>): void;
declare function expect(value: unknown): { toEqual(expected: unknown): void };
