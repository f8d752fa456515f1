/**
 * Escaping of caller-given text for the report's two formats.
 */

/** Text for XML character data and attribute values (either quote). */
export function xmlEscape(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] as string);
}

/**
 * Text for a Markdown table cell or line: HTML-significant `<`, `>` and `&` become entities,
 * Markdown punctuation (`|`, `\`, `` ` ``, `*`, `_`, `[`, `]`) is backslash-escaped, and
 * line breaks become spaces so a cell stays on its row.
 */
export function mdEscape(text: string): string {
    return text
        .replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c] as string)
        .replace(/[\\|`*_[\]]/g, (c) => `\\${c}`)
        .replace(/\r?\n|\r/g, " ");
}
