/** The id a control's `aria-describedby` points at: its error when there is one, else its hint. */
export function describedBy(id: string, error: string | undefined): string {
  return error ? `${id}-error` : `${id}-hint`;
}
