/** Limits the server enforces that the web checks before sending (PRODUCT.md, docs/protocol.md). */

/** A chat message is 1..=1000 characters (Unicode code points) after trimming. */
export const CHAT_MIN = 1;
export const CHAT_MAX = 1000;
