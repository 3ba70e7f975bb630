/** The input layer: git ranges, staged changes, mailed patches, diffs. */
export type { ChangeSet, FileChange, Hunk, HunkLine, InputError } from './types.js';
export { parseUnifiedDiff, parseUnifiedDiffDetailed, renderUnifiedDiff, unquote, type ParsedDiff } from './diff.js';
export { parsePatchInput, parseSubject, decodeWords, decodeQuotedPrintable, type PatchInputResult } from './mail.js';
export { GitRepo, type GitRepoOptions, type RangeOptions } from './git.js';
export { BlobCache, type BlobCacheOptions } from './cache.js';
export { changedLines, fragmentImages, type ChangedLines, type FragmentImages } from './hunks.js';
