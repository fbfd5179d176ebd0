import type { Location } from 'react-router';

/** Location state of a link that opens a challenge as a modal over the page it came from. */
export interface BackgroundState {
  background?: Location;
}

export function backgroundOf(location: Location): Location | undefined {
  return (location.state as BackgroundState | null)?.background;
}

export function withBackground(location: Location): BackgroundState {
  return { background: location };
}
