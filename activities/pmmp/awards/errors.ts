/**
 * Errors of notice text extraction, grouped the way DESIGN.md §6 groups them: what happens next.
 * `retryable: false` means "stop" (the same input will fail the same way); an activity wrapping
 * these turns them into `ApplicationFailure.nonRetryable`. The engine's shared vocabulary
 * (activities/engine/errors.ts) does not exist yet; when it does, these should extend it.
 */

export type NoticeErrorCode =
  | 'NOT_A_PDF'
  | 'MISSING_BINARY'
  | 'MISSING_OCR_LANGUAGE'
  | 'TOOL_TIMEOUT'
  | 'TOOL_FAILED'
  | 'ABORTED';

export abstract class NoticeExtractionError extends Error {
  abstract readonly code: NoticeErrorCode;
  abstract readonly retryable: boolean;
}

/** The bytes are not a PDF: the portal answers some notice URLs with an HTML error page and a 200. */
export class NotAPdfError extends NoticeExtractionError {
  readonly code = 'NOT_A_PDF';
  readonly retryable = false;
  constructor(
    readonly detectedAs: 'html' | 'empty' | 'unknown',
    readonly head: string,
  ) {
    super(`not a PDF (looks like ${detectedAs}; starts with ${JSON.stringify(head)})`);
    this.name = 'NotAPdfError';
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

export class MissingBinaryError extends NoticeExtractionError {
  readonly code = 'MISSING_BINARY';
  // A worker without the binary fails every attempt; only a redeploy fixes it.
  readonly retryable = false;
  readonly debianPackage: string;
  constructor(readonly binary: string) {
    const pkg = DEBIAN_PACKAGE_OF[binary] ?? 'unknown';
    super(`${binary} not found on PATH: install the Debian package ${pkg} (apt-get install ${pkg})`);
    this.name = 'MissingBinaryError';
    this.debianPackage = pkg;
  }
}

export class MissingOcrLanguageError extends NoticeExtractionError {
  readonly code = 'MISSING_OCR_LANGUAGE';
  readonly retryable = false;
  readonly debianPackages: string[];
  constructor(readonly languages: string[]) {
    const pkgs = languages.map((l) => `tesseract-ocr-${l}`);
    super(`tesseract has no traineddata for ${languages.join(', ')}: install ${pkgs.join(' ')}`);
    this.name = 'MissingOcrLanguageError';
    this.debianPackages = pkgs;
  }
}

export class ToolTimeoutError extends NoticeExtractionError {
  readonly code = 'TOOL_TIMEOUT';
  // A loaded worker can time out where an idle one would not.
  readonly retryable = true;
  constructor(
    readonly binary: string,
    readonly timeoutMs: number,
  ) {
    super(`${binary} did not finish within ${timeoutMs} ms`);
    this.name = 'ToolTimeoutError';
  }
}

export class ToolFailedError extends NoticeExtractionError {
  readonly code = 'TOOL_FAILED';
  // poppler failing on a document fails again on the same bytes (damaged or encrypted PDF).
  readonly retryable = false;
  constructor(
    readonly binary: string,
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`${binary} failed (exit ${String(exitCode)}): ${stderr.trim().slice(0, 500)}`);
    this.name = 'ToolFailedError';
  }
}

export class ExtractionAbortedError extends NoticeExtractionError {
  readonly code = 'ABORTED';
  // Cancellation is the caller's decision; retrying would ignore it.
  readonly retryable = false;
  constructor() {
    super('notice text extraction aborted');
    this.name = 'ExtractionAbortedError';
  }
}
