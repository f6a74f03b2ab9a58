/**
 * Awards of Moroccan public tenders, read from the portal's PDF notices (extraits de PV and
 * résultats définitifs): text extraction (poppler, tesseract) and a tolerant parser.
 */
export {
  extractNoticeText,
  assertPdf,
  EXTRACTION_DEFAULTS,
  type ExtractNoticeTextOptions,
  type ExtractionMethod,
  type NoticePage,
  type NoticeText,
  type PageDecision,
} from './extract';
export { parseAward } from './parse';
export { parseAchevement, type AchevementNotice } from './achevement';
export { findAmounts, parseAmount, type AmountMatch } from './amounts';
export { findDates, parseDate, type DateMatch } from './dates';
export { nameSimilarity, cleanBidderName, splitGroupement } from './names';
export { normalizeText } from './text';
export {
  AwardNoticeItemSchema,
  AwardLotItemSchema,
  BidItemSchema,
  WinnerItemSchema,
  AwardStatusSchema,
  AWARD_STATUSES,
  type AwardNotice,
  type AwardLotItem,
  type BidItem,
  type WinnerItem,
  type AwardStatus,
  type ParseWarning,
} from './schema';
export {
  accuracyReport,
  evaluateGroundTruth,
  compareNotice,
  formatAccuracyReport,
  ACCURACY_FIELDS,
  type AccuracyReport,
  type AccuracyField,
  type FieldScore,
  type GroundTruth,
  type GroundTruthDocument,
  type GroundTruthLot,
  type TextKind,
} from './accuracy';
export {
  type NoticeExtractionError,
  NotAPdfError,
  MissingBinaryError,
  MissingOcrLanguageError,
  ToolTimeoutError,
  ToolFailedError,
  ExtractionAbortedError,
  DEBIAN_PACKAGE_OF,
  type NoticeErrorCode,
} from './errors';
