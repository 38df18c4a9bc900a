// CommonJS before TypeScript 5.8: the ESM-only package through a dynamic import, still typed.
// Type-checked by .ci/consumer-types.
export async function load(): Promise<number> {
  const backoff = await import('backoff-ts');
  const retrying = backoff.onException(backoff.expo, TypeError, { maxTries: 3 })(
    async (url: string) => url.length,
  );
  return retrying('http://localhost/');
}
