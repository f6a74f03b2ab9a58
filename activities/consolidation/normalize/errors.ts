/**
 * QFDMOD's two outcomes of a normaliser that cannot use a value: a warning keeps the row with the
 * destination blanked, an error drops the row. Both are logged with the columns and values involved.
 */
export abstract class ImportSourceIssue extends Error {
  abstract readonly blocking: boolean;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The value is unusable: the destination is blanked, the row is kept. */
export class ImportSourceWarning extends ImportSourceIssue {
  readonly blocking = false;
}

/** The row cannot become an acteur (no identity, unknown type): it is dropped. */
export class ImportSourceError extends ImportSourceIssue {
  readonly blocking = true;
}

export class BooleanValueWarning extends ImportSourceWarning {}
export class CodePostalWarning extends ImportSourceWarning {}
export class SirenWarning extends ImportSourceWarning {}
export class SiretWarning extends ImportSourceWarning {}
export class UrlWarning extends ImportSourceWarning {}
export class EmailWarning extends ImportSourceWarning {}
export class PublicAccueilliWarning extends ImportSourceWarning {}
export class RepriseWarning extends ImportSourceWarning {}
export class OpeningHoursWarning extends ImportSourceWarning {}
export class TelephoneWarning extends ImportSourceWarning {}
export class AdresseWarning extends ImportSourceWarning {}
export class ActeurServiceCodesWarning extends ImportSourceWarning {}
export class ActionCodesWarning extends ImportSourceWarning {}
export class GeopointWarning extends ImportSourceWarning {}
export class SousCategorieCodesWarning extends ImportSourceWarning {}

export class ActeurTypeCodeError extends ImportSourceError {}
export class IdentifiantExterneError extends ImportSourceError {}
export class IdentifiantUniqueError extends ImportSourceError {}
