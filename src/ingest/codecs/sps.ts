import { CodecError } from './errors.js';

/** Facts about an H.264 stream taken from its sequence parameter set (ITU-T H.264 7.3.2.1.1). */
export interface SpsInfo {
  profileIdc: number;
  /** constraint_set0..5 flags and reserved bits, the byte between profile and level. */
  constraintFlags: number;
  levelIdc: number;
  chromaFormatIdc: number;
  /** Display size: coded size minus the frame cropping rectangle. */
  width: number;
  height: number;
}

/** An AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1), as the FLV AVC sequence header carries it. */
export interface AvcConfig {
  profileIdc: number;
  profileCompatibility: number;
  levelIdc: number;
  /** Size of the NAL unit length prefix in frames (1, 2 or 4; 4 in practice). */
  nalLengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
}

function fail(reason: string): never {
  throw new CodecError(reason);
}

/** Parses an avcC record. Throws CodecError when it is truncated or not version 1. */
export function parseAvcConfig(buf: Buffer): AvcConfig {
  if (buf.length < 7) fail(`AVCDecoderConfigurationRecord too short (${buf.length} bytes)`);
  if (buf[0] !== 1) fail(`AVCDecoderConfigurationRecord version ${buf[0]} (expected 1)`);
  const nalLengthSize = (buf[4] & 3) + 1;
  if (nalLengthSize === 3) fail('AVCDecoderConfigurationRecord NAL length size 3 is invalid');
  let p = 6;
  const readSet = (count: number, what: string): Buffer[] => {
    const sets: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (p + 2 > buf.length) fail(`AVCDecoderConfigurationRecord truncated in ${what} ${i}`);
      const len = buf.readUInt16BE(p);
      p += 2;
      if (p + len > buf.length) fail(`AVCDecoderConfigurationRecord truncated in ${what} ${i}`);
      sets.push(buf.subarray(p, p + len));
      p += len;
    }
    return sets;
  };
  const sps = readSet(buf[5] & 0x1f, 'SPS');
  if (p + 1 > buf.length) fail('AVCDecoderConfigurationRecord truncated before PPS count');
  const ppsCount = buf[p++];
  const pps = readSet(ppsCount, 'PPS');
  return { profileIdc: buf[1], profileCompatibility: buf[2], levelIdc: buf[3], nalLengthSize, sps, pps };
}

/** Removes emulation prevention bytes (00 00 03 → 00 00) from a NAL unit's payload (H.264 7.4.1). */
export function unescapeRbsp(nal: Buffer): Buffer {
  const out = Buffer.allocUnsafe(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i];
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** MSB-first bit reader with Exp-Golomb codes (H.264 9.1); reads past the end throw. */
export class BitReader {
  private bit = 0;
  constructor(private readonly buf: Buffer) {}

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bit >> 3;
      if (byte >= this.buf.length) fail('SPS truncated');
      v = v * 2 + ((this.buf[byte] >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return v;
  }

  flag(): boolean {
    return this.u(1) === 1;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) fail('SPS has an Exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

/** Profiles whose SPS carries chroma format, bit depth and scaling matrices (H.264 7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Parses an SPS NAL unit (with its 1-byte NAL header). Throws CodecError when malformed. */
export function parseSps(nal: Buffer): SpsInfo {
  if (nal.length < 4) fail(`SPS too short (${nal.length} bytes)`);
  if ((nal[0] & 0x1f) !== 7) fail(`NAL unit type ${nal[0] & 0x1f} is not an SPS`);
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) fail(`SPS chroma_format_idc ${chromaFormatIdc} out of range`);
    if (chromaFormatIdc === 3) separateColourPlane = r.flag();
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.flag(); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) { // seq_scaling_matrix_present_flag
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) {
    r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType === 1) {
    r.flag(); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    if (cycle > 255) fail(`SPS num_ref_frames_in_pic_order_cnt_cycle ${cycle} out of range`);
    for (let i = 0; i < cycle; i++) r.se();
  } else if (pocType !== 2) {
    fail(`SPS pic_order_cnt_type ${pocType} out of range`);
  }
  r.ue(); // max_num_ref_frames
  r.flag(); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.flag();
  if (!frameMbsOnly) r.flag(); // mb_adaptive_frame_field_flag
  r.flag(); // direct_8x8_inference_flag
  let cropLeft = 0, cropRight = 0, cropTop = 0, cropBottom = 0;
  if (r.flag()) {
    cropLeft = r.ue();
    cropRight = r.ue();
    cropTop = r.ue();
    cropBottom = r.ue();
  }
  // Crop units (H.264 7.4.2.1.1, equations 7-19..7-22).
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
  const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
  const fieldFactor = frameMbsOnly ? 1 : 2;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = chromaArrayType === 0 ? fieldFactor : subHeightC * fieldFactor;
  const width = widthMbs * 16 - cropUnitX * (cropLeft + cropRight);
  const height = fieldFactor * heightMapUnits * 16 - cropUnitY * (cropTop + cropBottom);
  if (width <= 0 || height <= 0) fail(`SPS crops the picture to ${width}x${height}`);
  return { profileIdc, constraintFlags, levelIdc, chromaFormatIdc, width, height };
}
