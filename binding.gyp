{
  "targets": [
    {
      "target_name": "sigma_native",
      "sources": [
        "native/addon.cc",
        "native/codec_config.cc",
        "native/memory_trim.cc",
        "native/cmaf_muxer.cc",
        "native/pipeline.cc",
        "native/h264_encoder.cc",
        "native/transcoder.cc",
        "native/aac_encoder.cc",
        "native/slate_engine.cc",
        "native/slate_encoder.cc",
        "native/thumbnail_engine.cc",
        "native/thumbnailer.cc",
        "native/opus_to_aac.cc",
        "native/audio_transcoder.cc",
        "native/srt_server.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(pkg-config --cflags-only-I libavformat libavcodec libavutil libswresample libswscale srt | sed s/-I//g)"
      ],
      "libraries": [
        "<!@(pkg-config --libs libavformat libavcodec libavutil libswresample libswscale srt)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++1y", "-std=gnu++20"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "OTHER_CFLAGS": ["<!@(pkg-config --cflags libavformat libavcodec libavutil libswresample libswscale)"]
          }
        }]
      ]
    }
  ]
}
