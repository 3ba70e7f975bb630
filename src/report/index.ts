/**
 * Reporting layer: turns a RunResult into text, JSON, SARIF 2.1.0 or the
 * mailing-list reply. Every formatter is a pure function of its arguments;
 * findings are always ordered with compareFindings.
 */
import type { RunResult } from '../types.js';
import type { Format, ReportOptions } from './options.js';
import { formatText } from './text.js';
import { formatJson } from './json.js';
import { formatSarif } from './sarif.js';
import { formatEmail } from './email.js';

export type { Format, ReportOptions, EmailOptions } from './options.js';
export { FORMATS } from './options.js';
export { formatText } from './text.js';
export { formatJson, JSON_SCHEMA_VERSION } from './json.js';
export { formatSarif, SARIF_SCHEMA_URI, FINGERPRINT_KEY } from './sarif.js';
export { formatEmail } from './email.js';
export { summaryLine } from './common.js';

export function render(format: Format, result: RunResult, opts: ReportOptions): string {
  switch (format) {
    case 'text':
      return formatText(result, opts);
    case 'json':
      return formatJson(result, opts);
    case 'sarif':
      return formatSarif(result, opts);
    case 'email':
      return formatEmail(result, opts);
    default: {
      const never: never = format;
      throw new Error(`unknown report format: ${String(never)}`);
    }
  }
}
