// CommonJS with TypeScript >= 5.8: `import … = require` of the ESM-only package is typed (Node
// 20.19+ loads it with require). Type-checked by .ci/consumer-types.
import backoff = require('backoff-ts');

export const retrying = backoff.onException(backoff.expo, TypeError, { maxTries: 3 })(
  async (url: string) => url.length,
);
export const length: Promise<number> = retrying('http://localhost/');
