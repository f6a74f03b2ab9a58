/**
 * One log stream per process: pino's JSON lines, with the Temporal runtime's own logger (SDK messages,
 * workflow and activity loggers, and the Rust core's messages forwarded) written into it. A line logged
 * by an activity carries the workflow id, run id and activity type the SDK attaches, so an operator
 * goes from a log line to the run in the Web UI.
 */
import { makeTelemetryFilterString, type Logger as TemporalLogger, type LogLevel, type LogMetadata, type TelemetryOptions } from '@temporalio/worker';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Tests capture the lines; processes write to stdout. */
  destination?: DestinationStream;
}

export function createLogger(name: string, opts: LoggerOptions = {}): Logger {
  const options = { name, level: opts.level ?? 'info', base: { pid: process.pid, service: name } };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

const PINO_LEVEL: Record<LogLevel, Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** The Temporal runtime's logger interface, written through pino. */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly pino: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const { sdkComponent, ...rest } = meta ?? {};
    this.pino[PINO_LEVEL[level]]({ ...rest, ...(sdkComponent ? { component: sdkComponent } : {}) }, message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }

  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }

  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }

  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }

  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/**
 * Runtime options that send everything Temporal logs into `log`: the core's messages are forwarded at
 * WARN and above (at INFO it narrates every poll), the SDK's and our workflows' and activities' at the
 * process's level.
 */
export function temporalLogging(log: Logger): { logger: TemporalLogger; telemetryOptions: Pick<TelemetryOptions, 'logging'> } {
  return {
    logger: new PinoTemporalLogger(log.child({ source: 'temporal' })),
    telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'WARN' }) } },
  };
}
