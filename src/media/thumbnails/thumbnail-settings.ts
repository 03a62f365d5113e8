import type { ChannelConfig, ThumbnailsConfig } from '../../config/schema.js';

/** One channel's thumbnail settings: the top-level `thumbnails` with the channel's overrides. */
export type ThumbnailSettings = ThumbnailsConfig;

export function thumbnailSettings(global: ThumbnailsConfig, channel?: ChannelConfig['thumbnails']): ThumbnailSettings {
  const { preview, ...rest } = channel ?? {};
  return { ...global, ...rest, preview: { ...global.preview, ...preview } };
}
