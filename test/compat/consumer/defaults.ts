// An inline target with a defaulted parameter keeps that parameter's type: TypeScript 5.4+ (before,
// the parameter is typed from the decorator's constraint; annotate it there). Type-checked by
// .ci/consumer-types.
import * as backoff from 'backoff-ts';

export const getPage = backoff.onException(
  backoff.expo,
  TypeError,
)(async (url: string, retries = 3) => retries + url.length);
export const pages: Promise<number> = getPage('http://localhost/', 2);
export const double = backoff.onExceptionSync(backoff.constant, Error)((n = 1) => n * 2);
export const four: number = double(2);
