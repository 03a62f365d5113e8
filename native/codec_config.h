// Structural checks of codec configuration records before they reach libav. libavformat
// copies an avcC that starts with 1 into the init segment verbatim, so garbage would
// become a broken init segment that players reject far away from the cause.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sigma {

/// Validates an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1). Returns an empty
/// string when valid, otherwise the reason.
std::string CheckAvcC(const uint8_t* p, size_t n);

struct AudioSpecificConfigInfo {
  int objectType = 0;
  int sampleRate = 0;  // 0 when the config carries an index we do not know
  int channelConfig = 0;
};

/// Validates an MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) far enough to know
/// the object type, sampling frequency and channel configuration.
std::string CheckAudioSpecificConfig(const uint8_t* p, size_t n, AudioSpecificConfigInfo* out);

/// True when `p` is a sequence of 4-byte big-endian length-prefixed NAL units that exactly
/// covers `n` bytes, each NAL non-empty with the forbidden_zero_bit clear (AVCC framing as FLV
/// carries it).
bool IsWellFormedAvcc(const uint8_t* p, size_t n);

/// True when the bytes could be one raw AAC frame (not ADTS: libavformat's mp4 muxer treats a
/// first frame starting with the ADTS sync word as a fatal error).
bool IsPlausibleRawAac(const uint8_t* p, size_t n);

/// Converts an Annex B byte stream (start-code delimited NAL units, as libx264 emits them) to
/// AVCC framing (4-byte big-endian lengths), the form the muxer and FLV carry. Empty NAL units
/// and trailing zero bytes are dropped. Returns an empty vector when no NAL unit is found.
std::vector<uint8_t> AnnexBToAvcc(const uint8_t* p, size_t n);

/// Builds an AVCDecoderConfigurationRecord from Annex B parameter sets (an encoder's global
/// header: SPS, PPS, maybe SEI). The encoder's output is 8-bit 4:2:0, which the high-profile
/// extension fields state. Returns an empty vector when there is no SPS or no PPS.
std::vector<uint8_t> AvcCFromAnnexB(const uint8_t* p, size_t n);

}  // namespace sigma
