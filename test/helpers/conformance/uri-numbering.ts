/**
 * Media Sequence Numbers are positions in the playlist (§3): MEDIA-SEQUENCE plus the index of
 * the segment. Many servers also write the number into the resource name; where the name shows
 * it, it must agree with the position (MS-02, PT-08), which catches a wrong MEDIA-SEQUENCE, a
 * segment left out of the middle, or a part listed under the wrong parent.
 */

/** What a resource name says of its place in the stream. */
export interface UriNumber {
  msn: number;
  /** Part index, for part names. */
  part?: number;
}

/** Last path component without query or fragment. */
function fileName(uri: string): string {
  const path = uri.split(/[?#]/)[0];
  return path.slice(path.lastIndexOf('/') + 1);
}

const PATTERNS: { re: RegExp; part: boolean }[] = [
  { re: /^(\d+)\.(\d+)\.(?:m4s|mp4|ts|cmf[av])$/, part: true }, // <msn>.<part>.m4s (this origin)
  { re: /^part-?(\d+)[-_.](\d+)\.\w+$/, part: true }, //          part-<msn>-<index>.m4s
  { re: /^(\d+)\.(?:m4s|mp4|ts|cmf[av])$/, part: false }, //      <msn>.m4s
  { re: /^segment-?(\d+)\.\w+$/, part: false }, //                 segment-<msn>.m4s
];

/** The MSN (and part index) a media URI names, or undefined when its name does not follow a known pattern. */
export function numberFromUri(uri: string): UriNumber | undefined {
  const name = fileName(uri);
  for (const { re, part } of PATTERNS) {
    const m = re.exec(name);
    if (m) return part ? { msn: Number(m[1]), part: Number(m[2]) } : { msn: Number(m[1]) };
  }
  return undefined;
}
