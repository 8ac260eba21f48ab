/**
 * The closed sets of names grading accepts — result formats, audiences, test visibilities, export
 * platforms — in a module that imports nothing, so that the CLI can register its options without
 * loading the grader. Their homes (report.ts, assignment.ts, export.ts) re-export them.
 */

export const FORMATS = ['text', 'json', 'gradescope', 'prairielearn', 'junit', 'classroom', 'html'] as const;
export type Format = (typeof FORMATS)[number];
export const AUDIENCES = ['student', 'instructor'] as const;
export type Audience = (typeof AUDIENCES)[number];

export const VISIBILITIES = ['visible', 'hidden', 'after_due_date', 'after_published'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export const PLATFORMS = ['gradescope', 'prairielearn', 'classroom'] as const;
export type Platform = (typeof PLATFORMS)[number];
