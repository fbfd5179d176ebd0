/** The live room's icons (decorative: every button that shows one has its own label). */

import type { ReactNode } from "react";

/** A square 24-unit icon filled with the text colour, `size` pixels wide. */
function Icon({ d, size = 22, children }: { d: string; size?: number; children?: ReactNode }) {
  return (
    <svg viewBox="0 0 24 24" width={size} height={size} aria-hidden="true">
      <path fill="currentColor" d={d} />
      {children}
    </svg>
  );
}

export function CameraIcon({ off }: { off: boolean }) {
  return (
    <Icon d="M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11l-4 4z">
      {off && <path stroke="currentColor" strokeWidth="2.2" strokeLinecap="round" d="M3 3l18 18" />}
    </Icon>
  );
}

export function MicIcon() {
  return <Icon d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2z" />;
}

export function MicOffIcon({ size = 14 }: { size?: number }) {
  return (
    <Icon
      size={size}
      d="M19 11a1 1 0 1 0-2 0 4.98 4.98 0 0 1-.6 2.37l1.46 1.46A6.96 6.96 0 0 0 19 11zm-4-.17V5a3 3 0 0 0-5.94-.6L15 10.83zM3.7 2.3 2.3 3.7 9 10.42V11a3 3 0 0 0 4.3 2.7l1.56 1.56A4.96 4.96 0 0 1 7 11a1 1 0 1 0-2 0 7 7 0 0 0 6 6.93V21h2v-3.07a6.9 6.9 0 0 0 3.3-1.23l4 4 1.4-1.4z"
    />
  );
}

export function LeaveIcon() {
  return <Icon d="M10.09 15.59 11.5 17l5-5-5-5-1.41 1.41L12.67 11H3v2h9.67l-2.58 2.59zM19 3H5a2 2 0 0 0-2 2v4h2V5h14v14H5v-4H3v4a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2z" />;
}

export function LockIcon() {
  return <Icon size={44} d="M12 2a5 5 0 0 0-5 5v3H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8a2 2 0 0 0-2-2h-1V7a5 5 0 0 0-5-5zm-3 5a3 3 0 0 1 6 0v3H9V7zm3 7a2 2 0 0 1 1 3.73V19h-2v-1.27A2 2 0 0 1 12 14z" />;
}
