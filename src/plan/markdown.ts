// Untrusted text (registry error messages, names from manifests) inside the Markdown promoflow renders: the GitHub
// step summary, the Web UI's current details and the drift report. Pure, so workflow code may use it.

/** Longest untrusted text put in one table cell; the full message stays in the JSON result and the history. */
const MAX_CELL = 500;

/**
 * Text as a Markdown table cell that renders as exactly that text. Inside a cell only inline Markdown can start, so
 * every character that opens an inline construct is backslash-escaped (CommonMark allows it for any ASCII
 * punctuation): HTML and autolinks (`<`, `>`, `:`), links and images (`[`, `]`, `(`, `)`, `!`), emphasis and
 * strikethrough (`*`, `_`, `~`), code spans, entities (`&`), math (`$`), the column break `|` and the backslash
 * itself. Names stay readable (`-`, `.`, `/` are left alone). Line breaks and other control characters become
 * spaces (a newline would end the row), and long text is cut.
 */
export function markdownCell(text: string): string {
  // \p{Cc}: C0 and C1 control characters (newline, carriage return, escape…).
  const flat = text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
  const cut = flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL)}…` : flat;
  return cut.replace(/[\\`*_[\]()!|<>~&:$]/g, '\\$&');
}
