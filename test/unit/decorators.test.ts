// Decorator syntax goes through TypeScript's own emit (ts.transpileModule): vitest's transform
// leaves `@dec method() {}` as it is, and Node 20 cannot parse it.
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as backoff from '../../src/index.js';

/** Compiles `source` (the body of `make(backoff)`) and runs it, returning what it returns. */
function compile(source: string, legacy: boolean): () => unknown {
  const { outputText } = ts.transpileModule(
    `export function make(backoff: any): any {\n${source}\n}`,
    {
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        experimentalDecorators: legacy,
      },
      reportDiagnostics: false,
    },
  );
  const exports: { make?: (api: typeof backoff) => unknown } = {};
  new Function('exports', outputText)(exports);
  return () => (exports.make as (api: typeof backoff) => unknown)(backoff);
}

const serviceSource = `
  const quick = { interval: 0, jitter: null, logger: null };
  class Service {
    calls = 0;
    base = 10;

    @backoff.onException(backoff.constant, TypeError, { ...quick, maxTries: 5 })
    async fetch(x: number) {
      this.calls += 1;
      if (this.calls < 3) throw new TypeError('flaky');
      return this.base + x;
    }

    @backoff.onExceptionSync(backoff.constant, TypeError, { ...quick, maxTries: 5 })
    parse(text: string) {
      this.calls += 1;
      if (this.calls < 2) throw new TypeError('flaky');
      return this.base + Number(text);
    }

    @backoff.onPredicate(backoff.constant, undefined, quick)
    static async poll() {
      Service.polls += 1;
      return Service.polls >= 3 ? 'ready' : '';
    }
    static polls = 0;

    @backoff.onPredicateSync(backoff.constant, (v: number) => v < 2, quick)
    count() {
      this.calls += 1;
      return this.calls;
    }
  }
  return Service;
`;

describe.each([
  ['TypeScript 5 standard decorators', false],
  ['legacy experimentalDecorators', true],
] as const)('%s', (_name, legacy) => {
  it('decorate methods, static or not, with this forwarded', async () => {
    const Service = compile(serviceSource, legacy)() as new () => {
      calls: number;
      fetch(x: number): Promise<number>;
      parse(text: string): number;
      count(): number;
    } & { poll(): Promise<string>; polls: number };
    const service = new Service();
    expect(await service.fetch(5)).toBe(15);
    expect(service.calls).toBe(3);

    const second = new Service();
    expect(second.parse('7')).toBe(17);
    expect(second.calls).toBe(2);

    expect(await (Service as unknown as { poll(): Promise<string> }).poll()).toBe('ready');
    expect((Service as unknown as { polls: number }).polls).toBe(3);

    const third = new Service();
    expect(third.count()).toBe(2);
  });

  it('on anything but a method, throw a TypeError when the class is defined', () => {
    const field = compile(
      `class C { @backoff.onException(backoff.expo, Error) value = 1; } return C;`,
      legacy,
    );
    expect(field).toThrow(TypeError);
    expect(field).toThrow(/decorates methods only; `value`/);
    const accessor = compile(
      `class C { @backoff.onException(backoff.expo, Error) get value() { return 1; } } return C;`,
      legacy,
    );
    expect(accessor).toThrow(/decorates methods only/);
  });
});

describe('standard decorators only', () => {
  it('on a class or an auto-accessor, throw a TypeError naming its kind', () => {
    const onClass = compile(
      `@backoff.onException(backoff.expo, Error) class C {} return C;`,
      false,
    );
    expect(onClass).toThrow(/onException decorates methods only; `C` is a class/);
    const autoAccessor = compile(
      `class C { @backoff.onExceptionSync(backoff.expo, Error) accessor value = 1; } return C;`,
      false,
    );
    expect(autoAccessor).toThrow(
      /onExceptionSync decorates methods only; `value` is an auto-accessor/,
    );
  });

  it('keep the method name in log lines', async () => {
    const lines: string[] = [];
    const make = compile(
      `class Api {
        n = 0;
        @backoff.onException(backoff.constant, Error, { interval: 0, logger: this_logger, maxTries: 2 })
        async getUser() { this.n += 1; if (this.n < 2) throw new Error('503'); return 'user'; }
      }
      return new Api();`.replace('this_logger', '(globalThis as any).__testLogger'),
      false,
    );
    (globalThis as Record<string, unknown>).__testLogger = {
      info: (m: string) => lines.push(m),
      error: () => {},
    };
    try {
      const api = make() as { getUser(): Promise<string> };
      expect(await api.getUser()).toBe('user');
      expect(lines).toEqual(['Backing off getUser(...) for 0.0s (Error: 503)']);
    } finally {
      delete (globalThis as Record<string, unknown>).__testLogger;
    }
  });
});
