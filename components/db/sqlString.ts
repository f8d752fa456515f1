/**
 * SQL literal and identifier quoting for the SQL files this component renders.
 *
 * The rendered files are fed to the `mariadb` command-line client on the
 * droplet, with the server's default `sql_mode` (which does NOT contain
 * NO_BACKSLASH_ESCAPES), so backslash escapes are interpreted.
 */

/**
 * Quote a string as a MariaDB single-quoted string literal.
 *
 * Escapes backslash and quote plus the control characters that would break a
 * line-oriented SQL file or the client (NUL, LF, CR, Ctrl-Z), so any
 * password or name can be embedded safely.
 *
 * Assumes `NO_BACKSLASH_ESCAPES` is NOT set in the session's sql_mode.
 */
export function sqlString(value: string): string {
  const escaped = value.replace(/[\\'\0\n\r\x1a]/g, (ch) => {
    switch (ch) {
      case "\\":
        return "\\\\";
      case "'":
        return "\\'";
      case "\0":
        return "\\0";
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      default:
        return "\\Z";
    }
  });
  return `'${escaped}'`;
}

/**
 * Quote an identifier (database, table, column name) with backticks.
 *
 * Rejects NUL because MariaDB identifiers cannot contain it; backticks are
 * doubled as MariaDB requires.
 */
export function sqlIdentifier(name: string): string {
  if (name.length === 0 || name.includes("\0")) {
    throw new Error(`invalid SQL identifier ${JSON.stringify(name)}`);
  }
  return "`" + name.replace(/`/g, "``") + "`";
}
