/**
 * Fake-camera clips for Chromium's `--use-file-for-fake-video-capture`, made with ffmpeg (Debian's
 * `ffmpeg` package; scripts/test.sh and scripts/measure-camera.sh install it). y4m is raw video,
 * so clips are kept short: Chromium plays the file in a loop at the frame rate in its header.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const CLIP_SIZE = { width: 640, height: 480 };
export const CLIP_FPS = 30;

/** The ffmpeg filter graph of each clip kind (lavfi sources, no input files). */
const SOURCES = {
  // A moving test picture (colour wheel, moving gradient, running counter): a live camera.
  live: { input: `testsrc2=size=${CLIP_SIZE.width}x${CLIP_SIZE.height}:rate=${CLIP_FPS}`, seconds: 4 },
  // All black: a covered lens, or a camera app sending black.
  black: { input: `color=c=black:size=${CLIP_SIZE.width}x${CLIP_SIZE.height}:rate=${CLIP_FPS}`, seconds: 1 },
  // One frame of the test picture repeated: a photo held up to the camera, or a frozen feed.
  still: {
    input: `testsrc2=size=${CLIP_SIZE.width}x${CLIP_SIZE.height}:rate=${CLIP_FPS}`,
    filter: 'trim=end_frame=1,loop=loop=29:size=1:start=0,setpts=N/FRAME_RATE/TB',
    seconds: 1,
  },
  // One frame of colour bars repeated: a still picture with little detail.
  stillBars: {
    input: `smptebars=size=${CLIP_SIZE.width}x${CLIP_SIZE.height}:rate=${CLIP_FPS}`,
    filter: 'trim=end_frame=1,loop=loop=29:size=1:start=0,setpts=N/FRAME_RATE/TB',
    seconds: 1,
  },
};

export const CLIP_KINDS = Object.keys(SOURCES);

/** Writes the clip `kind` into `dir` (once) and returns its path. */
export function makeClip(kind, dir) {
  const source = SOURCES[kind];
  if (!source) throw new Error(`unknown clip kind ${kind}`);
  const file = path.join(dir, `${kind}.y4m`);
  if (existsSync(file)) return file;
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source.input];
  if (source.filter) args.push('-vf', source.filter);
  args.push('-t', String(source.seconds), '-r', String(CLIP_FPS), '-pix_fmt', 'yuv420p', file);
  try {
    execFileSync('ffmpeg', args, { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    throw new Error(`ffmpeg could not make the ${kind} clip (is Debian's ffmpeg installed? apt-get install -y ffmpeg): ${err.message}`);
  }
  return file;
}
