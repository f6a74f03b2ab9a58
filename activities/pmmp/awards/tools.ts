import { execFile } from 'node:child_process';
import {
  ExtractionAbortedError,
  MissingBinaryError,
  MissingOcrLanguageError,
  ToolFailedError,
  ToolTimeoutError,
} from './errors';

export interface RunToolOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Text outputs of a multi-page notice stay far below this; images are never read through stdout. */
  maxBufferBytes?: number;
}

export interface ToolOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs a CLI tool in a child process. Everything CPU-heavy (PDF parsing, rasterizing, OCR) happens
 * there, so the activity's event loop stays free to heartbeat (DESIGN.md §5).
 */
export function runTool(binary: string, args: readonly string[], opts: RunToolOptions): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new ExtractionAbortedError());
      return;
    }
    execFile(
      binary,
      args,
      {
        timeout: opts.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: opts.maxBufferBytes ?? 64 * 1024 * 1024,
        encoding: 'utf8',
        // Absent: the child inherits this process's environment (child_process's own default).
        env: opts.env,
        signal: opts.signal,
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr });
          return;
        }
        const err = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: unknown };
        if (err.code === 'ENOENT') reject(new MissingBinaryError(binary));
        else if (err.name === 'AbortError' || opts.signal?.aborted) reject(new ExtractionAbortedError());
        else if (err.killed && err.signal === 'SIGKILL') reject(new ToolTimeoutError(binary, opts.timeoutMs));
        else reject(new ToolFailedError(binary, (err.code as number | string | undefined) ?? null, String(stderr ?? '')));
      },
    );
  });
}

const checkedLanguages = new Map<string, Promise<void>>();

/**
 * Fails fast, once per process, when tesseract lacks a language: without `ara` tesseract still
 * runs but prints a warning and reads nothing of the Arabic, which would silently lower accuracy.
 */
export function ensureTesseractLanguages(languages: string, timeoutMs = 15_000): Promise<void> {
  let pending = checkedLanguages.get(languages);
  if (!pending) {
    pending = (async () => {
      const { stdout, stderr } = await runTool('tesseract', ['--list-langs'], { timeoutMs });
      // tesseract 4 prints the list on stderr, tesseract 5 on stdout.
      const available = new Set(
        `${stdout}\n${stderr}`
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => /^[a-z_]+$/i.test(l)),
      );
      const missing = languages.split('+').filter((l) => l && !available.has(l));
      if (missing.length > 0) throw new MissingOcrLanguageError(missing);
    })();
    checkedLanguages.set(languages, pending);
    pending.catch(() => checkedLanguages.delete(languages));
  }
  return pending;
}
