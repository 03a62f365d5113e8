#include "codec_config.h"

namespace sigma {

std::string CheckAvcC(const uint8_t* p, size_t n) {
  if (!p || n < 7) return "avcC shorter than 7 bytes";
  if (p[0] != 1) return "avcC configurationVersion is not 1";
  if ((p[4] & 0x03) != 3) {
    // lengthSizeMinusOne: FLV/RTMP framing (and our NAL check) assumes 4-byte lengths.
    return "avcC lengthSizeMinusOne is not 3 (4-byte NAL lengths required)";
  }
  size_t off = 5;
  const int numSps = p[off++] & 0x1f;
  if (numSps < 1) return "avcC has no SPS";
  for (int i = 0; i < numSps; i++) {
    if (off + 2 > n) return "avcC truncated in SPS list";
    const size_t len = (size_t(p[off]) << 8) | p[off + 1];
    off += 2;
    if (len < 4 || off + len > n) return "avcC SPS length out of bounds";
    if ((p[off] & 0x1f) != 7 || (p[off] & 0x80)) return "avcC SPS entry is not an SPS NAL unit";
    off += len;
  }
  if (off + 1 > n) return "avcC truncated before PPS count";
  const int numPps = p[off++];
  if (numPps < 1) return "avcC has no PPS";
  for (int i = 0; i < numPps; i++) {
    if (off + 2 > n) return "avcC truncated in PPS list";
    const size_t len = (size_t(p[off]) << 8) | p[off + 1];
    off += 2;
    if (len < 1 || off + len > n) return "avcC PPS length out of bounds";
    if ((p[off] & 0x1f) != 8 || (p[off] & 0x80)) return "avcC PPS entry is not a PPS NAL unit";
    off += len;
  }
  // High profiles may append chroma/bit-depth/SPS-ext fields; anything after this is tolerated.
  return "";
}

namespace {
const int kAacRates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                           22050, 16000, 12000, 11025, 8000,  7350};

struct BitReader {
  const uint8_t* p;
  size_t n;
  size_t bit = 0;
  bool Read(int count, uint32_t* v) {
    uint32_t r = 0;
    for (int i = 0; i < count; i++) {
      if (bit >= n * 8) return false;
      r = (r << 1) | ((p[bit >> 3] >> (7 - (bit & 7))) & 1);
      bit++;
    }
    *v = r;
    return true;
  }
};
}  // namespace

std::string CheckAudioSpecificConfig(const uint8_t* p, size_t n, AudioSpecificConfigInfo* out) {
  if (!p || n < 2) return "AudioSpecificConfig shorter than 2 bytes";
  if (n > 64) return "AudioSpecificConfig longer than 64 bytes";
  BitReader br{p, n};
  uint32_t aot = 0, idx = 0, ch = 0;
  if (!br.Read(5, &aot)) return "AudioSpecificConfig truncated";
  if (aot == 31) {
    uint32_t ext = 0;
    if (!br.Read(6, &ext)) return "AudioSpecificConfig truncated";
    aot = 32 + ext;
  }
  if (aot == 0) return "AudioSpecificConfig audioObjectType is 0 (null object)";
  if (!br.Read(4, &idx)) return "AudioSpecificConfig truncated";
  int rate = 0;
  if (idx == 15) {
    uint32_t explicitRate = 0;
    if (!br.Read(24, &explicitRate)) return "AudioSpecificConfig truncated";
    rate = int(explicitRate);
  } else if (idx < 13) {
    rate = kAacRates[idx];
  } else {
    return "AudioSpecificConfig samplingFrequencyIndex is reserved";
  }
  if (rate <= 0) return "AudioSpecificConfig sampling frequency is 0";
  if (!br.Read(4, &ch)) return "AudioSpecificConfig truncated";
  if (ch > 7 && ch != 11 && ch != 12 && ch != 14) return "AudioSpecificConfig channelConfiguration is reserved";
  if (out) {
    out->objectType = int(aot);
    out->sampleRate = rate;
    out->channelConfig = int(ch);
  }
  return "";
}

bool IsWellFormedAvcc(const uint8_t* p, size_t n) {
  if (!p || n < 5) return false;
  size_t off = 0;
  while (off < n) {
    if (n - off < 4) return false;
    const size_t len = (size_t(p[off]) << 24) | (size_t(p[off + 1]) << 16) | (size_t(p[off + 2]) << 8) | p[off + 3];
    off += 4;
    if (len == 0 || len > n - off) return false;
    if (p[off] & 0x80) return false;  // forbidden_zero_bit
    off += len;
  }
  return true;
}

bool IsPlausibleRawAac(const uint8_t* p, size_t n) {
  if (!p || n == 0 || n > 8192) return false;  // 6144 bits per channel × 8 channels = 6144 bytes
  if (n >= 2 && p[0] == 0xff && (p[1] & 0xf0) == 0xf0) return false;  // ADTS sync word
  return true;
}

namespace {

/// Calls fn(nal, size) for each NAL unit of an Annex B stream.
template <typename Fn>
void ForEachAnnexBNal(const uint8_t* p, size_t n, Fn fn) {
  size_t i = 0;
  auto startCodeAt = [&](size_t k) { return k + 3 <= n && p[k] == 0 && p[k + 1] == 0 && p[k + 2] == 1; };
  while (i < n && !startCodeAt(i)) i++;
  while (i < n) {
    const size_t begin = i + 3;
    size_t end = begin;
    while (end < n && !startCodeAt(end)) end++;
    size_t last = end;
    // Trailing zeros belong to the next start code (00 00 00 01) or are padding.
    while (last > begin && p[last - 1] == 0) last--;
    if (last > begin) fn(p + begin, last - begin);
    i = end;
  }
}

}  // namespace

std::vector<uint8_t> AnnexBToAvcc(const uint8_t* p, size_t n) {
  std::vector<uint8_t> out;
  out.reserve(n + 16);
  ForEachAnnexBNal(p, n, [&](const uint8_t* nal, size_t len) {
    const uint32_t l = uint32_t(len);
    const uint8_t hdr[4] = {uint8_t(l >> 24), uint8_t(l >> 16), uint8_t(l >> 8), uint8_t(l)};
    out.insert(out.end(), hdr, hdr + 4);
    out.insert(out.end(), nal, nal + len);
  });
  return out;
}

std::vector<uint8_t> AvcCFromAnnexB(const uint8_t* p, size_t n) {
  std::vector<uint8_t> sps, pps;
  ForEachAnnexBNal(p, n, [&](const uint8_t* nal, size_t len) {
    const int type = nal[0] & 0x1f;
    if (type == 7 && sps.empty() && len >= 4 && len <= 0xffff) sps.assign(nal, nal + len);
    if (type == 8 && pps.empty() && len <= 0xffff) pps.assign(nal, nal + len);
  });
  if (sps.empty() || pps.empty()) return {};
  std::vector<uint8_t> c = {1, sps[1], sps[2], sps[3], 0xff /* 4-byte lengths */, 0xe1 /* one SPS */};
  c.push_back(uint8_t(sps.size() >> 8));
  c.push_back(uint8_t(sps.size()));
  c.insert(c.end(), sps.begin(), sps.end());
  c.push_back(1);
  c.push_back(uint8_t(pps.size() >> 8));
  c.push_back(uint8_t(pps.size()));
  c.insert(c.end(), pps.begin(), pps.end());
  const int profile = sps[1];
  if (profile == 100 || profile == 110 || profile == 122 || profile == 144) {
    // ISO/IEC 14496-15 §5.3.3.1.2: chroma_format 1 (4:2:0), 8-bit luma and chroma, no SPS ext.
    c.insert(c.end(), {0xfc | 1, 0xf8 | 0, 0xf8 | 0, 0});
  }
  return c;
}

}  // namespace sigma
