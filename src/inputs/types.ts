/**
 * Data model of the input layer: what a commit, a staged diff or a mailed
 * patch looks like once parsed. Plain data, JSON-serialisable.
 */

export type { InputError } from '../types.js';

export interface HunkLine {
  kind: 'add' | 'del' | 'ctx';
  /** The line without its leading '+', '-' or ' ' marker. */
  text: string;
  /** 1-based line in the old image (ctx and del lines). */
  oldLine?: number;
  /** 1-based line in the new image (ctx and add lines). */
  newLine?: number;
}

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Text after the second `@@`, usually the enclosing function signature ('' if none). */
  section: string;
  lines: HunkLine[];
}

export interface FileChange {
  /** Path in the old image without the a/ prefix; null when the file is added. */
  oldPath: string | null;
  /** Path in the new image without the b/ prefix; null when the file is deleted. */
  newPath: string | null;
  /** Full blob id of the old image, when the diff records it (`index` line with --full-index). */
  oldBlob?: string;
  /** Full blob id of the new image, when known. */
  newBlob?: string;
  /** `Binary files ... differ` or a `GIT binary patch`: no hunks. */
  binary?: boolean;
  hunks: Hunk[];
}

export interface ChangeSet {
  /** Commit sha, or a patch identifier such as '0002-foo.patch' or 'PATCH 2/3'. */
  id: string;
  /** Subject without `[PATCH ...]` prefixes. */
  subject: string;
  /** `Name <email>`. */
  author?: string;
  /** First parent (range), HEAD (staged). */
  parent?: string;
  /** `base-commit:` trailer of the patch or of its series' cover letter. */
  baseCommit?: string;
  messageId?: string;
  inReplyTo?: string;
  seriesIndex?: number;
  seriesTotal?: number;
  /**
   * Set when the commit was deliberately not diffed (currently only merge
   * commits in `GitRepo.range`); `files` is then empty. Not an error.
   */
  skipped?: string;
  files: FileChange[];
}
