/**
 * Text for the terminal with its control characters shown, not obeyed. Messages carry names
 * from outside (a dataset's file names, a stray file in the store, a MIDI file's own bytes in a
 * parse error): a name holding `ESC ] 0 ; … BEL` would retitle the terminal, `ESC [ 2 J` clear
 * it, a carriage return or a newline forge a line. Every C0 control (tab aside), DEL and every
 * C1 control is written as its escape: `\n`, `\r`, else `\xNN` (ESC is the four characters
 * `\x1b`).
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
// deno-lint-ignore no-control-regex
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** One control character's visible escape. */
function escape(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/**
 * `text` with its control characters escaped. A one-line message (a warning, an info) escapes
 * newlines too, so a name cannot start a line of its own; `keepNewlines` keeps the newlines of a
 * message that may span lines (an error with its stack).
 */
export function terminalText(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? CONTROLS_BUT_NEWLINE : CONTROLS, escape);
}

/** Prints a warning on stderr, one line, its control characters shown (see {@link terminalText}). */
export function warn(message: string): void {
  console.error(terminalText(`warning: ${message}`));
}
