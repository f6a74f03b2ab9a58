/**
 * Errors of notice text extraction, in the shared vocabulary (activities/engine/errors.ts): the
 * class each extends says what happens next, and `toActivityFailure` hands Temporal the class name
 * as the failure type.
 */
import { StopError, TransientError } from '../../engine/errors';

export type NoticeErrorCode =
  | 'NOT_A_PDF'
  | 'MISSING_BINARY'
  | 'MISSING_OCR_LANGUAGE'
  | 'TOOL_TIMEOUT'
  | 'TOOL_FAILED'
  | 'ABORTED';

/** The bytes are not a PDF: the portal answers some notice URLs with an HTML error page and a 200. */
export class NotAPdfError extends StopError {
  readonly code: NoticeErrorCode = 'NOT_A_PDF';
  constructor(
    readonly detectedAs: 'html' | 'empty' | 'unknown',
    readonly head: string,
  ) {
    super(`not a PDF (looks like ${detectedAs}; starts with ${JSON.stringify(head)})`, { detectedAs });
  }
}

/** Which Debian package provides each tool we spawn, so the message says what to install. */
export const DEBIAN_PACKAGE_OF: Readonly<Record<string, string>> = {
  pdftotext: 'poppler-utils',
  pdftoppm: 'poppler-utils',
  pdfinfo: 'poppler-utils',
  pdfimages: 'poppler-utils',
  tesseract: 'tesseract-ocr',
};

/** A worker without the binary fails every attempt: only a redeploy fixes it. */
export class MissingBinaryError extends StopError {
  readonly code: NoticeErrorCode = 'MISSING_BINARY';
  readonly debianPackage: string;
  constructor(readonly binary: string) {
    const pkg = DEBIAN_PACKAGE_OF[binary] ?? 'unknown';
    super(`${binary} not found on PATH: install the Debian package ${pkg} (apt-get install ${pkg})`, { binary, debianPackage: pkg });
    this.debianPackage = pkg;
  }
}

export class MissingOcrLanguageError extends StopError {
  readonly code: NoticeErrorCode = 'MISSING_OCR_LANGUAGE';
  readonly debianPackages: string[];
  constructor(readonly languages: string[]) {
    const pkgs = languages.map((l) => `tesseract-ocr-${l}`);
    super(`tesseract has no traineddata for ${languages.join(', ')}: install ${pkgs.join(' ')}`, { languages, debianPackages: pkgs });
    this.debianPackages = pkgs;
  }
}

/** A loaded worker can time out where an idle one would not: retried. */
export class ToolTimeoutError extends TransientError {
  readonly code: NoticeErrorCode = 'TOOL_TIMEOUT';
  constructor(
    readonly binary: string,
    readonly timeoutMs: number,
  ) {
    super('timeout', `${binary} did not finish within ${timeoutMs} ms`, { binary, timeoutMs });
  }
}

/** poppler failing on a document fails again on the same bytes (damaged or encrypted PDF). */
export class ToolFailedError extends StopError {
  readonly code: NoticeErrorCode = 'TOOL_FAILED';
  constructor(
    readonly binary: string,
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`${binary} failed (exit ${String(exitCode)}): ${stderr.trim().slice(0, 500)}`, { binary, exitCode });
  }
}

/** Cancellation is the caller's decision; retrying would ignore it. */
export class ExtractionAbortedError extends StopError {
  readonly code: NoticeErrorCode = 'ABORTED';
  constructor() {
    super('notice text extraction aborted');
  }
}

export type NoticeExtractionError =
  | NotAPdfError
  | MissingBinaryError
  | MissingOcrLanguageError
  | ToolTimeoutError
  | ToolFailedError
  | ExtractionAbortedError;
