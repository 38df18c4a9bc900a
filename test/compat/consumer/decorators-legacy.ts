// Legacy (experimentalDecorators) method decorators on a user's class, with
// exactOptionalPropertyTypes (type-checked by .ci/consumer-types).
import * as backoff from 'backoff-ts';

export class Client {
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  @backoff.onException(backoff.expo, TypeError, { maxTries: 3 })
  async get(path: string, retries = 2): Promise<string> {
    return `${this.base}${path}${retries.toFixed(0)}`;
  }

  @backoff.onPredicateSync(backoff.constant, undefined, { interval: 0 })
  ready(): boolean {
    return true;
  }
}
