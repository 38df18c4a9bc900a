/**
 * The package's version, as `package.json` says (a unit test holds them equal): the CLI's
 * `--version` and the OpenTelemetry instrumentation's `instrumentationVersion` and meter version.
 *
 * @internal
 */
export const VERSION = '0.1.0';
