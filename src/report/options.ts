import type { RuleMeta } from '../types.js';

export type Format = 'text' | 'json' | 'sarif' | 'email';

export const FORMATS: readonly Format[] = ['text', 'json', 'sarif', 'email'];

export interface ReportOptions {
  /** ANSI colour (text format only). Never derived from the environment here. */
  color: boolean;
  /** Also report findings that already exist in the pre-image (`--all`). */
  showPreexisting: boolean;
  toolVersion: string;
  /** All known rules (SARIF tool.driver.rules). */
  rules: RuleMeta[];
  /**
   * Directory file paths are relative to. SARIF: absolute finding paths are
   * made relative to it and it becomes originalUriBaseIds.SRCROOT.
   */
  cwd?: string;
}

export interface EmailOptions extends ReportOptions {
  /** Message-ID of the patch mail being answered (with or without <>). */
  inReplyTo?: string;
  /** Subject of the patch mail; the reply gets `Re: ` in front. */
  subject?: string;
  to?: string[];
}
