// TypeScript 5 standard decorators on a user's class (type-checked by .ci/consumer-types).
import * as backoff from 'backoff-ts';

export class Client {
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  @backoff.onException(backoff.expo, TypeError, { maxTries: 3 })
  async get(path: string): Promise<string> {
    return `${this.base}${path}`;
  }

  @backoff.onExceptionSync(backoff.constant, RangeError, { interval: 0 })
  size(text: string): number {
    return text.length;
  }
}

export const got: Promise<string> = new Client('http://localhost').get('/');
