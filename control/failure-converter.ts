/**
 * The failure converter of every Worker and Client that has payload keys (control/payload-codec.ts
 * names this file as `failureConverterPath`). A failure's message and stack trace are plain strings in
 * the history unless they are moved into its `encodedAttributes` payload, which the payload codec then
 * encrypts like any other: an error such as "MailWizz said fatima@… already exists" must not sit in clear.
 *
 * A module of its own because the SDK loads it by path, in the worker's and client's process and in
 * the workflow bundle (the isolate re-encodes the failures a workflow rethrows).
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
